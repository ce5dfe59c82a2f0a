// The cache on a real redis-server: hits, misses and loads (and their counters), TTLs within
// the jitter's bounds, the not-found placeholder, protobuf and JSON values, invalidation,
// single flight under 100 concurrent calls, and the loader serving while Redis is down or hung.
import assert from "node:assert/strict";
import { once } from "node:events";
import { after, before, describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import type { Redis } from "ioredis";
import { createCache, protoCodec } from "kratos-ts/cache";
import type { CacheOptions } from "kratos-ts/cache";
import { createContext } from "kratos-ts/context";
import { internalServer, notFound } from "kratos-ts/errors";
import { createRedisClient } from "kratos-ts/ratelimit/redis";
import { GreetingSchema } from "../../api/helloworld/v1/greeter_pb.js";
import { eventually } from "../helpers/etcd.js";
import { testMeters } from "../helpers/metric-reader.js";
import { absentRedisUrl, pauseRedis, redisSkip, startRedis } from "../helpers/redis.js";
import type { RedisServer } from "../helpers/redis.js";
import { warnings } from "../helpers/warnings.js";

let prefixes = 0;
/** A prefix of its own per test, so tests sharing the server never share keys. */
const prefix = () => `cache-test${++prefixes}:`;

/** A loader that counts its runs and answers `value`. */
function counted<T>(value: T) {
  const loader = () => {
    loader.runs++;
    return Promise.resolve(value);
  };
  loader.runs = 0;
  return loader;
}

describe("cache on Redis", { skip: redisSkip(), timeout: 60_000 }, () => {
  let redis: RedisServer;
  let clients: Redis[] = [];
  /** A client of the kit's, connected, so a cache made now starts on Redis. */
  const client = async () => {
    const c = createRedisClient({ url: redis.url, commandTimeout: 1000 });
    clients.push(c);
    if (c.status !== "ready") await once(c, "ready");
    return c;
  };
  const cacheOn = async <T>(options: Partial<CacheOptions<T>> = {}) => {
    const c = await client();
    const p = prefix();
    return { c, p, cache: createCache<T>({ redis: c, prefix: p, timeout: 1000, ...options }) };
  };

  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    for (const c of clients) c.disconnect();
    clients = [];
    await redis.close();
  });

  it("loads on a miss, answers hits from Redis, and counts both", async () => {
    const meters = testMeters();
    const { c, p, cache } = await cacheOn<{ n: number }>({
      name: "things",
      meterProvider: meters.meterProvider,
    });
    const loader = counted({ n: 7 });
    assert.deepEqual(await cache.getOrLoad("a", loader), { n: 7 });
    assert.deepEqual(await cache.getOrLoad("a", loader), { n: 7 });
    assert.deepEqual(await cache.getOrLoad("a", loader), { n: 7 });
    assert.equal(loader.runs, 1);
    assert.equal(await c.exists(`${p}a`), 1);
    assert.equal(await meters.value("cache_hits_total", { cache: "things" }), 2);
    assert.equal(await meters.value("cache_misses_total", { cache: "things" }), 1);
    assert.equal(await meters.value("cache_loads_total", { cache: "things", outcome: "ok" }), 1);
    assert.equal(await meters.value("cache_errors_total"), 0);
    assert.equal(cache.status(), "redis");
    // Closed: calls go to the loader.
    cache.close();
    assert.equal(cache.status(), "loader");
    assert.deepEqual(await cache.getOrLoad("a", loader), { n: 7 });
    assert.equal(loader.runs, 2);
  });

  it("stores values with the TTL spread within the jitter's bounds", async () => {
    const low = await cacheOn<string>({ ttl: 10_000, jitter: 0.1, random: () => 0 });
    await low.cache.getOrLoad("k", () => "v");
    const lowTtl = await low.c.pttl(`${low.p}k`);
    assert.ok(lowTtl > 8_000 && lowTtl <= 9_000, `pttl ${lowTtl}`);
    const high = await cacheOn<string>({ ttl: 10_000, jitter: 0.1, random: () => 0.999 });
    await high.cache.getOrLoad("k", () => "v");
    const highTtl = await high.c.pttl(`${high.p}k`);
    assert.ok(highTtl > 10_000 && highTtl <= 11_000, `pttl ${highTtl}`);
    // A per-call TTL wins over the cache's; the default random stays within ±5%.
    const plain = await cacheOn<string>({ ttl: 10_000 });
    for (let i = 0; i < 20; i++) await plain.cache.getOrLoad(`k${i}`, () => "v", { ttl: 2_000 });
    for (let i = 0; i < 20; i++) {
      const ttl = await plain.c.pttl(`${plain.p}k${i}`);
      assert.ok(ttl > 1_800 && ttl <= 2_100, `pttl ${ttl}`);
    }
    const expiring = await cacheOn<string>({ ttl: 100 });
    const loader = counted("v");
    await expiring.cache.getOrLoad("k", loader);
    await eventually(
      "the entry to expire",
      async () => (await expiring.c.exists(`${expiring.p}k`)) === 0,
    );
    await expiring.cache.getOrLoad("k", loader);
    assert.equal(loader.runs, 2);
  });

  it("caches a not-found answer as a short-lived placeholder", async () => {
    const meters = testMeters();
    const { c, p, cache } = await cacheOn<string>({
      notFoundTtl: 5_000,
      meterProvider: meters.meterProvider,
    });
    const none = counted<string | undefined>(undefined);
    assert.equal(await cache.getOrLoad("missing", none), undefined);
    assert.equal(await cache.getOrLoad("missing", none), undefined);
    assert.equal(none.runs, 1);
    const ttl = await c.pttl(`${p}missing`);
    assert.ok(ttl > 0 && ttl <= 5_250, `pttl ${ttl}`);
    // A thrown 404 (a generated NOT_FOUND error) means none too.
    let thrown = 0;
    const throwing = () => {
      thrown++;
      return Promise.reject(notFound("USER_NOT_FOUND", "no user 9"));
    };
    assert.equal(await cache.getOrLoad("user:9", throwing), undefined);
    assert.equal(await cache.getOrLoad("user:9", throwing), undefined);
    assert.equal(thrown, 1);
    assert.equal(await meters.value("cache_loads_total", { outcome: "not_found" }), 2);
    // Any other failure reaches the caller and is not cached.
    let failures = 0;
    const failing = () => {
      failures++;
      return Promise.reject(internalServer("DB", "the database is down"));
    };
    await assert.rejects(cache.getOrLoad("broken", failing), /the database is down/);
    await assert.rejects(cache.getOrLoad("broken", failing), /the database is down/);
    assert.equal(failures, 2);
    assert.equal(await c.exists(`${p}broken`), 0);
    assert.equal(await meters.value("cache_loads_total", { outcome: "error" }), 2);
  });

  it("stores protobuf messages in their binary form, typed", async () => {
    const { c, p, cache } = await cacheOn({ codec: protoCodec(GreetingSchema) });
    const greeting = create(GreetingSchema, {
      id: 9_007_199_254_740_993n,
      name: "n",
      message: "m",
    });
    await cache.getOrLoad("g", () => greeting);
    const loaded = await cache.getOrLoad("g", () => assert.fail("a hit must not load"));
    assert.equal(loaded?.id, 9_007_199_254_740_993n);
    assert.equal(loaded.message, "m");
    const raw = await c.getBuffer(`${p}g`);
    assert.equal(raw?.[0], 1, "the value tag");
    // An entry the codec cannot read (a changed schema, another writer) is a miss, replaced.
    await c.set(`${p}g`, Buffer.from([1, 0xff, 0xff, 0xff]));
    const reloaded = await cache.getOrLoad("g", () => greeting);
    assert.equal(reloaded?.name, "n");
    assert.deepEqual(await c.getBuffer(`${p}g`), raw);
  });

  it("deletes after a write, with keys fixed or computed from the result", async () => {
    const { c, p, cache } = await cacheOn<string>();
    await cache.getOrLoad("a", () => "old");
    await cache.getOrLoad("id:1", () => undefined); // a placeholder: id 1 does not exist yet
    const id = await cache.invalidateAfter(
      (created: number) => [`id:${created}`, "a"],
      () => Promise.resolve(1),
    );
    assert.equal(id, 1);
    assert.equal(await c.exists(`${p}a`, `${p}id:1`), 0);
    assert.equal(await cache.getOrLoad("id:1", () => "created"), "created");
    // A failed write deletes nothing.
    await assert.rejects(
      cache.invalidateAfter("id:1", () => Promise.reject(new Error("write failed"))),
      /write failed/,
    );
    assert.equal(await cache.getOrLoad("id:1", () => "other"), "created");
    await cache.set("a", "new");
    assert.equal(await cache.getOrLoad("a", () => "loaded"), "new");
    await cache.del("a", "id:1");
    assert.equal(await c.exists(`${p}a`, `${p}id:1`), 0);
  });

  it("does not store a load that raced a delete of its key", async () => {
    const { c, p, cache } = await cacheOn<string>();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let started = false;
    // A read of id 5 that finds nothing, while a write creates id 5 and invalidates its key.
    const read = cache.getOrLoad("id:5", async () => {
      started = true;
      await gate;
      return undefined;
    });
    await eventually("the load to start", () => started);
    await cache.invalidateAfter("id:5", () => Promise.resolve());
    release();
    assert.equal(await read, undefined);
    assert.equal(await c.exists(`${p}id:5`), 0, "no placeholder stored over the delete");
    assert.equal(await cache.getOrLoad("id:5", () => "created"), "created");
    assert.equal(await c.exists(`${p}id:5`), 1);
  });

  it("runs the loader once for 100 concurrent calls on a cold key", async () => {
    const { cache } = await cacheOn<string>();
    let runs = 0;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const loader = async () => {
      runs++;
      await gate;
      return "v";
    };
    const calls = Array.from({ length: 100 }, () => cache.getOrLoad("cold", loader));
    // Let every call reach the cache (and the first one Redis) before the load finishes.
    await eventually("the load to start", () => runs > 0);
    release();
    const values = await Promise.all(calls);
    assert.equal(runs, 1);
    assert.ok(values.every((v) => v === "v"));
    // Across instances (other processes) it is one load per instance at most; here, a hit.
    assert.equal(await cache.getOrLoad("cold", loader), "v");
    assert.equal(runs, 1);
  });

  it("lets a caller whose context is cancelled stop waiting on another's load", async () => {
    const { cache } = await cacheOn<string>();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const first = cache.getOrLoad("slow", async () => {
      await gate;
      return "v";
    });
    const ctx = createContext();
    const joined = cache.getOrLoad(ctx, "slow", () => assert.fail("joined, not run"));
    ctx.abort(new Error("client went away"));
    await assert.rejects(joined, /client went away/);
    release();
    assert.equal(await first, "v");
  });

  it("serves from the loader while Redis is down, warns once, and caches again after", async () => {
    const log = warnings();
    const infos: string[] = [];
    const logger = {
      ...log.logger,
      info: (f: object | string) => void infos.push(JSON.stringify(f)),
    };
    const meters = testMeters();
    const { cache } = await cacheOn<string>({
      name: "outage",
      logger,
      meterProvider: meters.meterProvider,
    });
    const loader = counted("fresh");
    assert.equal(await cache.getOrLoad("k", loader), "fresh");
    await redis.stop();
    for (let i = 0; i < 10; i++) assert.equal(await cache.getOrLoad(`k${i % 3}`, loader), "fresh");
    assert.equal(cache.status(), "loader");
    assert.equal(loader.runs, 11);
    await cache.del("k"); // lost, and no second warning
    assert.equal(log.seen.length, 1, log.seen.join("\n"));
    assert.match(log.seen[0] ?? "", /"cache":"outage"/);
    assert.ok((await meters.value("cache_errors_total", { op: "get" })) >= 1);
    await redis.restart();
    await eventually("caching to resume", () => cache.status() === "redis");
    assert.equal(infos.length, 1);
    // The restarted Redis is empty: one load fills it, the next call hits.
    assert.equal(await cache.getOrLoad("k", loader), "fresh");
    assert.equal(await cache.getOrLoad("k", loader), "fresh");
    assert.equal(loader.runs, 12);
    assert.equal(log.seen.length, 1);
  });

  it("answers from the loader within the timeout when Redis hangs", async () => {
    const log = warnings();
    const c = await client();
    const cache = createCache<string>({
      redis: c,
      prefix: prefix(),
      timeout: 50,
      logger: log.logger,
    });
    try {
      assert.equal(await cache.getOrLoad("k", () => "v"), "v"); // Redis has answered
      await pauseRedis(redis.port, 300);
      const started = performance.now();
      assert.equal(await cache.getOrLoad("other", () => "loaded"), "loaded");
      assert.ok(performance.now() - started < 250, "answered before Redis resumed");
      assert.equal(cache.status(), "loader");
      assert.equal(log.seen.length, 1);
      await eventually("caching to resume", () => cache.status() === "redis");
    } finally {
      cache.close();
    }
  });
});

describe("cache with a bad Redis address", { skip: redisSkip(), timeout: 30_000 }, () => {
  it("refuses a malformed URL with a RangeError naming it", () => {
    for (const url of [
      "redis://127.0.0.1:99999",
      "http://127.0.0.1:6379",
      "redis://h:1/x",
      "h:1",
    ]) {
      assert.throws(
        () => createRedisClient({ url }),
        (err: unknown) => err instanceof RangeError && err.message.includes(`"${url}"`),
        url,
      );
    }
  });

  it("serves from the loader when nothing listens there, with one warning", async () => {
    const log = warnings();
    const c = createRedisClient({ url: await absentRedisUrl() });
    const cache = createCache<string>({ redis: c, prefix: prefix(), logger: log.logger });
    try {
      for (let i = 0; i < 5; i++) assert.equal(await cache.getOrLoad("k", () => "v"), "v");
      await eventually("the warning", () => log.seen.length > 0);
      assert.equal(log.seen.length, 1);
      assert.match(log.seen[0] ?? "", /cache: Redis unreachable|"cache":"default"/);
    } finally {
      cache.close();
      c.disconnect();
    }
  });
});
