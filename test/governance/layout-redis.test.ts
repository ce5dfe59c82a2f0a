// The layout service with `data.redis`: it makes a Redis client only when the address is set,
// hands it to the governance rate limits, and closes it on stop; without it a rule asking for
// Redis fails the start in one line naming the file and the rule.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { redisSkip, startRedis } from "../helpers/redis.js";
import { tempDir } from "../helpers/repo.js";
import { spawnService, startService, writeLayoutConfig } from "../helpers/service.js";

const rule = [
  "governance:",
  "  rules:",
  "    - name: shared",
  "      rate_limit: { kind: fixed_period, limit: 2, period: 1h, key: constant, redis: true }",
];

describe("the layout's data.redis", { timeout: 60_000 }, () => {
  it("refuses a Redis rate limit when data.redis is not set", async () => {
    const dir = tempDir("kratos-ts-governance-noredis-");
    try {
      writeLayoutConfig(dir.path, { extra: rule });
      const service = spawnService(["-conf", "./configs"], dir.path);
      assert.equal(await service.exited, 1);
      await service.closed;
      assert.match(
        service.stderr(),
        /^helloworld: configs\/config\.yaml: governance\.rules\.0\.rateLimit\.redis: no Redis client is configured .*\(rule "shared"\)\n$/,
      );
    } finally {
      dir.remove();
    }
  });

  it(
    "limits through Redis when data.redis.addr is set, and stops cleanly",
    { skip: redisSkip() },
    async () => {
      const redis = await startRedis();
      const dir = tempDir("kratos-ts-governance-redis-");
      try {
        writeLayoutConfig(dir.path, { redis: `127.0.0.1:${redis.port}`, extra: rule });
        const service = await startService(["-conf", "./configs"], dir.path);
        try {
          const codes: number[] = [];
          for (let i = 0; i < 3; i++) {
            const res = await fetch(new URL("/helloworld/kratos", service.http));
            const body = (await res.json()) as { reason?: string };
            codes.push(res.status);
            if (res.status === 429) assert.equal(body.reason, "RATE_LIMITED");
          }
          assert.deepEqual(codes, [200, 200, 429]);
          service.child.kill("SIGTERM");
          // The Redis client is closed on stop: nothing keeps the process alive.
          assert.equal(await service.exited, 0);
        } finally {
          if (service.child.exitCode === null) service.child.kill("SIGKILL");
        }
      } finally {
        dir.remove();
        await redis.close();
      }
    },
  );
});
