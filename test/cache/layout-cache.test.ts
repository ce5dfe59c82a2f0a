// The layout service with `data.redis`: GetGreeting reads through the Redis cache (the second
// read is a hit in /metrics and the greeting is under its key in Redis), an unknown id is
// cached as a placeholder that CreateGreeting's insert deletes, reads are served from the
// database once Redis is gone, and a malformed address fails the start with one line naming
// the key.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Redis } from "ioredis";
import { redisSkip, startRedis } from "../helpers/redis.js";
import { tempDir } from "../helpers/repo.js";
import { spawnService, startService, writeLayoutConfig } from "../helpers/service.js";

/** The value of `cache_<what>_total{cache="greetings"}` in a Prometheus exposition; 0 if absent. */
function counter(text: string, what: string): number {
  const line = text
    .split("\n")
    .find((l) => l.startsWith(`cache_${what}_total{`) && l.includes('cache="greetings"'));
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(" ") + 1));
}

describe("the layout's cache", { timeout: 60_000 }, () => {
  it("fails the start in one line naming data.redis.addr when it is malformed", async () => {
    const dir = tempDir("kratos-ts-cache-badaddr-");
    try {
      writeLayoutConfig(dir.path, { redis: "127.0.0.1:99999" });
      const service = spawnService(["-conf", "./configs"], dir.path);
      assert.equal(await service.exited, 1);
      await service.closed;
      assert.match(
        service.stderr(),
        /^helloworld: configs\/config\.yaml: data\.redis\.addr: invalid Redis URL "redis:\/\/127\.0\.0\.1:99999": .*\n$/,
      );
    } finally {
      dir.remove();
    }
  });

  it("reads GetGreeting through Redis when data.redis is set", { skip: redisSkip() }, async () => {
    const redis = await startRedis();
    const admin = new Redis(redis.url);
    admin.on("error", () => undefined);
    const dir = tempDir("kratos-ts-cache-layout-");
    try {
      writeLayoutConfig(dir.path, { redis: `127.0.0.1:${redis.port}` });
      const service = await startService(["-conf", "./configs"], dir.path);
      try {
        const get = async (id: string) => {
          const res = await fetch(new URL(`/v1/greetings/${id}`, service.http));
          return { status: res.status, body: (await res.json()) as Record<string, unknown> };
        };
        const metrics = async () => (await fetch(new URL("/metrics", service.http))).text();
        // An id that does not exist yet: 404, and a placeholder in Redis.
        assert.equal((await get("1")).status, 404);
        assert.equal((await get("1")).status, 404);
        assert.equal(await admin.exists("helloworld:greeting:1"), 1);
        const created = await fetch(new URL("/v1/greetings", service.http), {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ name: "kratos" }),
        });
        assert.equal(created.status, 200);
        assert.equal(((await created.json()) as { id: string }).id, "1");
        // The insert deleted the placeholder: the next read loads the greeting and caches it.
        assert.equal(await admin.exists("helloworld:greeting:1"), 0);
        const first = await get("1");
        assert.equal(first.status, 200);
        assert.equal(first.body.message, "Hello kratos");
        assert.equal(await admin.exists("helloworld:greeting:1"), 1);
        const hitsBefore = counter(await metrics(), "hits");
        const second = await get("1");
        assert.deepEqual(second, first);
        const text = await metrics();
        assert.equal(counter(text, "hits"), hitsBefore + 1, text);
        assert.equal(counter(text, "misses"), 2, text);
        // Redis gone: the database answers, and the service still stops cleanly.
        await redis.stop();
        assert.deepEqual(await get("1"), first);
        assert.equal((await get("2")).status, 404);
        service.child.kill("SIGTERM");
        assert.equal(await service.exited, 0);
      } finally {
        if (service.child.exitCode === null) service.child.kill("SIGKILL");
      }
    } finally {
      admin.disconnect();
      dir.remove();
      await redis.close();
    }
  });
});
