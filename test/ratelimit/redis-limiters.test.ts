// The Redis limiters on a real redis-server: the scripts admit exactly the configured number in
// a window, two limiter instances share one limit, keys expire, and while Redis is down the
// limiters answer from their local fallback at once, warn once, and resume the shared limit
// when Redis is back.
import assert from "node:assert/strict";
import { once } from "node:events";
import { after, before, describe, it } from "node:test";
import { Redis } from "ioredis";
import {
  createRedisClient,
  createRedisFixedPeriodLimiter,
  createRedisTokenBucketLimiter,
} from "kratos-ts/ratelimit/redis";
import type { RedisRateLimiter } from "kratos-ts/ratelimit/redis";
import { eventually } from "../helpers/etcd.js";
import { absentRedisUrl, pauseRedis, redisSkip, startRedis } from "../helpers/redis.js";
import type { RedisServer } from "../helpers/redis.js";
import { warnings } from "../helpers/warnings.js";

async function admit(limiter: RedisRateLimiter, count: number, key: string): Promise<number> {
  let admitted = 0;
  for (let i = 0; i < count; i++) if (await limiter.take(key)) admitted++;
  return admitted;
}

let prefixes = 0;
/** A prefix of its own per test, so tests sharing the server never share counters. */
const prefix = () => `test${++prefixes}:`;

describe("Redis limiters", { skip: redisSkip(), timeout: 60_000 }, () => {
  let redis: RedisServer;
  let clients: Redis[] = [];
  /** A client of the kit's, connected: a limiter made now starts on the shared limit. */
  const client = async () => {
    const c = createRedisClient({ url: redis.url });
    clients.push(c);
    if (c.status !== "ready") await once(c, "ready");
    return c;
  };

  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    for (const c of clients) c.disconnect();
    clients = [];
    await redis.close();
  });

  it("token bucket: admits exactly the burst when the refill is slower than the test", async () => {
    const limiter = createRedisTokenBucketLimiter({
      client: await client(),
      rate: 0.01,
      burst: 20,
      prefix: prefix(),
      timeout: 1000,
    });
    assert.equal(await admit(limiter, 30, "k"), 20);
    assert.equal(await admit(limiter, 5, "other"), 5);
    assert.equal(limiter.status(), "shared");
    limiter.close();
  });

  it("fixed period: two instances on two connections share exactly one limit", async () => {
    const options = { limit: 20, period: 60_000, prefix: prefix(), timeout: 1000 };
    const a = createRedisFixedPeriodLimiter({ ...options, client: await client() });
    const b = createRedisFixedPeriodLimiter({ ...options, client: await client() });
    let admitted = 0;
    for (let i = 0; i < 20; i++) {
      if (await a.take("k")) admitted++;
      if (await b.take("k")) admitted++;
    }
    assert.equal(admitted, 20);
    assert.deepEqual([a.status(), b.status()], ["shared", "shared"]);
    a.close();
    b.close();
  });

  it("fixed period: a refused request counts nothing, and keys expire with their period", async () => {
    const p = prefix();
    const c = await client();
    const limiter = createRedisFixedPeriodLimiter({
      client: c,
      limit: 5,
      period: 200,
      prefix: p,
      timeout: 1000,
    });
    assert.equal(await limiter.take("k", 3), true);
    assert.equal(await limiter.take("k", 3), false);
    assert.equal(await limiter.take("k", 2), true);
    assert.equal(await limiter.take("k", 1), false);
    const ttl = await c.pttl(`${p}k`);
    assert.ok(ttl > 0 && ttl <= 200, `pttl ${ttl}`);
    await eventually("the counter to expire", async () => (await c.exists(`${p}k`)) === 0);
    assert.equal(await admit(limiter, 10, "k"), 5);
    limiter.close();
  });

  it("token bucket: the bucket key expires once it would be full again", async () => {
    const p = prefix();
    const c = await client();
    const limiter = createRedisTokenBucketLimiter({
      client: c,
      rate: 1000,
      burst: 10,
      prefix: p,
      timeout: 1000,
    });
    assert.equal(await limiter.take("k"), true);
    const ttl = await c.pttl(`${p}k`);
    // Full after 10 ms; the key lives that plus one second of slack.
    assert.ok(ttl > 0 && ttl <= 1010, `pttl ${ttl}`);
    limiter.close();
  });

  it("falls back to the local limit while Redis is down, warns once, and resumes", async () => {
    const log = warnings();
    const infos: string[] = [];
    const logger = {
      ...log.logger,
      info: (fields: object | string) => void infos.push(JSON.stringify(fields)),
    };
    const p = prefix();
    const c = await client();
    // A slow refill: each phase sees exactly one burst.
    const limiter = createRedisTokenBucketLimiter({
      client: c,
      rate: 0.01,
      burst: 5,
      prefix: p,
      logger,
      timeout: 1000,
    });
    assert.equal(await admit(limiter, 3, "k"), 3); // 2 left in Redis
    await redis.stop();
    // Every call is answered (none rejects), from the local bucket of the same size: 5.
    assert.equal(await admit(limiter, 10, "k"), 5);
    assert.equal(limiter.status(), "fallback");
    assert.equal(log.seen.length, 1, log.seen.join("\n"));
    assert.match(log.seen[0] ?? "", /"limit":"0.01 per second \(burst 5\)"/);
    // In fallback mode a call does not wait for Redis: it is answered synchronously.
    assert.equal(typeof limiter.take("k"), "boolean");
    await redis.restart();
    await eventually("the shared limit to resume", () => limiter.status() === "shared");
    assert.equal(infos.length, 1);
    // The restarted Redis is empty: a fresh shared bucket of 5 (the script is loaded again).
    assert.equal(await admit(limiter, 10, "k"), 5);
    assert.equal(log.seen.length, 1);
    limiter.close();
  });

  it("answers from the fallback within the timeout when Redis hangs", async () => {
    const log = warnings();
    const p = prefix();
    const c = await client();
    const limiter = createRedisTokenBucketLimiter({
      client: c,
      rate: 0.01,
      burst: 2,
      prefix: p,
      timeout: 50,
      logger: log.logger,
    });
    try {
      assert.equal(await limiter.take("k"), true); // Redis has answered: a failure is an outage
      await pauseRedis(redis.port, 300);
      const started = performance.now();
      assert.equal(await limiter.take("k"), true);
      assert.ok(performance.now() - started < 250, "answered before Redis resumed");
      assert.equal(limiter.status(), "fallback");
      assert.equal(log.seen.length, 1);
      await eventually("the shared limit to resume", () => limiter.status() === "shared");
    } finally {
      limiter.close();
    }
  });
});

describe("Redis limiters at startup", { skip: redisSkip(), timeout: 30_000 }, () => {
  it("does not warn while the client makes its first connection", async () => {
    const redis = await startRedis();
    const log = warnings();
    const c = createRedisClient({ url: redis.url });
    const limiter = createRedisTokenBucketLimiter({
      client: c,
      rate: 100,
      prefix: prefix(),
      logger: log.logger,
    });
    try {
      // Taken before the connection is up: answered locally, with no warning.
      assert.equal(await limiter.take("k"), true);
      await eventually("the shared limit", async () => {
        await limiter.take("k");
        return limiter.status() === "shared";
      });
      assert.deepEqual(log.seen, []);
    } finally {
      limiter.close();
      c.disconnect();
      await redis.close();
    }
  });

  it("warns once when Redis is not there at all, after the startup grace", async () => {
    const log = warnings();
    const c = createRedisClient({ url: await absentRedisUrl() });
    const limiter = createRedisFixedPeriodLimiter({
      client: c,
      limit: 3,
      prefix: prefix(),
      logger: log.logger,
    });
    try {
      let admitted = 0;
      for (let i = 0; i < 5; i++) if (await limiter.take("k")) admitted++;
      assert.equal(admitted, 3);
      await eventually("the warning", () => log.seen.length > 0);
      assert.equal(log.seen.length, 1);
      assert.match(log.seen[0] ?? "", /"limit":"3 per second"/);
    } finally {
      limiter.close();
      c.disconnect();
    }
  });
});
