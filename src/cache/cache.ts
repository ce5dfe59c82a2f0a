import type { MeterProvider } from "@opentelemetry/api";
import type { Redis } from "ioredis";
import type { Context } from "../context.js";
import { isNotFound } from "../errors/helpers.js";
import { redisOutage } from "../internal/redis-outage.js";
import { discardLogger } from "../log/logger.js";
import type { Logger } from "../log/logger.js";
import { cacheMetrics } from "./cache-metrics.js";
import { jsonCodec } from "./codec.js";
import type { CacheCodec } from "./codec.js";
import { jitteredTtl, requireTtl } from "./jitter.js";
import { singleFlight } from "./single-flight.js";

/** Options of {@link createCache}; only `redis` is required. */
export interface CacheOptions<T> {
  /**
   * The Redis client (ioredis), shared with anything else; the cache never closes it. Make it
   * with `createRedisClient` (no offline queue, an `error` listener): with an offline queue,
   * calls wait for a lost Redis instead of going to the loader.
   */
  redis: Redis;
  /** How values become bytes: {@link protoCodec} for protobuf-es messages. Default JSON. */
  codec?: CacheCodec<T>;
  /** The `cache` label of the metrics and the logs. Default `default`. */
  name?: string;
  /** Prepended to every key in Redis. Default `kratos-ts:cache:`. */
  prefix?: string;
  /** How long a loaded value stays, in ms (before jitter), unless a call says. Default 300000. */
  ttl?: number;
  /**
   * How long the placeholder of a key the loader did not find stays, in ms (before jitter):
   * short, so a row created later (without invalidating) shows up soon. Default 60000.
   */
  notFoundTtl?: number;
  /** Each TTL is spread over ±this fraction of itself, so entries written together do not expire together. Default 0.05. */
  jitter?: number;
  /** How long a call waits for Redis before it goes to the loader, in ms. Default 100. */
  timeout?: number;
  /** Where the outage warning and the recovery line go. Default: nowhere. */
  logger?: Logger;
  /** At most one outage warning per this many ms. Default 30000. */
  warnInterval?: number;
  /** How often to ping Redis while it is unreachable, in ms. Default 100. */
  probeInterval?: number;
  /** Where the counters go. Default: the global provider (startTelemetry's). */
  meterProvider?: MeterProvider;
  /** Returns [0, 1); the jitter's source. Default Math.random (tests inject one). */
  random?: () => number;
}

/** The defaults of {@link CacheOptions}. */
export const cacheDefaults = {
  name: "default",
  prefix: "kratos-ts:cache:",
  ttl: 300_000,
  notFoundTtl: 60_000,
  jitter: 0.05,
  timeout: 100,
  warnInterval: 30_000,
  probeInterval: 100,
} as const;

/**
 * Loads the value of a key on a miss: the value, or undefined / null when there is none (a
 * thrown not-found Kratos error, code 404, means none too). Any other error fails the call
 * and is not cached.
 */
export type CacheLoader<T> = () => Promise<T | null | undefined> | T | null | undefined;

/** Per-call options of {@link Cache.getOrLoad}. */
export interface GetOrLoadOptions {
  /** How long the loaded value stays, in ms (before jitter). Default: the cache's `ttl`. */
  ttl?: number;
}

/** Keys to invalidate: fixed, or computed from the write's result (the id it created). */
export type InvalidationKeys<R> =
  string | readonly string[] | ((result: R) => string | readonly string[]);

/** A cache-aside store of values of type `T` in Redis. */
export interface Cache<T> {
  /**
   * The value of `key`: from Redis when it is there (a hit), otherwise from `loader`, which is
   * then stored with the TTL (jittered). Concurrent calls for one key share one Redis read and
   * one load (single flight). A key the loader did not find is stored as a short-lived
   * placeholder and answers undefined until it expires or is deleted. While Redis is
   * unreachable or slower than `timeout`, every call goes to the loader. With `ctx`, a call
   * that joined another's flight stops waiting when its own context is cancelled.
   */
  getOrLoad(
    key: string,
    loader: CacheLoader<T>,
    options?: GetOrLoadOptions,
  ): Promise<T | undefined>;
  getOrLoad(
    ctx: Context,
    key: string,
    loader: CacheLoader<T>,
    options?: GetOrLoadOptions,
  ): Promise<T | undefined>;
  /** Stores `value` under `key` (write-through), with the TTL (jittered); never throws for Redis. */
  set(key: string, value: T, options?: GetOrLoadOptions): Promise<void>;
  /**
   * Deletes `keys` (values and placeholders); a load of one of them in flight in this process
   * then returns what it read without storing it. Never throws: while Redis is unreachable the
   * delete is lost (counted, and warned as an outage), so an entry lives at most its TTL.
   */
  del(...keys: string[]): Promise<void>;
  /**
   * Runs `write` and, once it succeeded, deletes `keys` (delete-after-write): the next read
   * loads the new state. Resolves with the write's result; a failed write deletes nothing.
   */
  invalidateAfter<R>(keys: InvalidationKeys<R>, write: () => Promise<R>): Promise<R>;
  /** `redis` while calls go to Redis; `loader` from a failed Redis call until a ping succeeds. */
  status(): "redis" | "loader";
  /**
   * Stops the outage probe and the counters' reporting; later calls go to the loader. The
   * client stays open.
   */
  close(): void;
}

// An entry in Redis is one tag byte and the payload: the tag tells a value from the not-found
// placeholder without a second key, and a value written by something else (no tag) from ours.
const valueTag = 1;
const placeholder = Buffer.from([0]);
/** No usable entry in Redis. */
const none: unique symbol = Symbol("none");

/**
 * Creates a cache-aside store over `redis` (go-zero's `cache` with its three guards:
 * penetration by the not-found placeholder, breakdown by single flight, avalanche by TTL
 * jitter). Redis trouble never fails a call: it goes to the loader, with one warning per
 * `warnInterval`. Counters: `cache_hits_total`, `cache_misses_total`, `cache_loads_total`,
 * `cache_errors_total`, labelled with the cache's `name`.
 */
export function createCache<T = unknown>(options: CacheOptions<T>): Cache<T> {
  const client = options.redis;
  const codec = options.codec ?? jsonCodec<T>();
  const name = options.name ?? cacheDefaults.name;
  const prefix = options.prefix ?? cacheDefaults.prefix;
  const ttl = options.ttl ?? cacheDefaults.ttl;
  const notFoundTtl = options.notFoundTtl ?? cacheDefaults.notFoundTtl;
  const jitter = options.jitter ?? cacheDefaults.jitter;
  const random = options.random ?? Math.random;
  const logger = options.logger ?? discardLogger;
  requireTtl("ttl", ttl);
  requireTtl("notFoundTtl", notFoundTtl);
  if (!(jitter >= 0 && jitter < 1)) {
    throw new RangeError(`cache: jitter must be at least 0 and below 1, got ${jitter}`);
  }
  const metrics = cacheMetrics(name, options.meterProvider);
  const flights = singleFlight();
  const outage = redisOutage({
    client,
    timeout: options.timeout ?? cacheDefaults.timeout,
    warnInterval: options.warnInterval ?? cacheDefaults.warnInterval,
    probeInterval: options.probeInterval ?? cacheDefaults.probeInterval,
    logger,
    fields: { cache: name, prefix },
    downMessage: "cache: Redis unreachable, calls go to the loader",
    backMessage: "cache: Redis is back, caching resumed",
  });

  const failed = (op: "get" | "set" | "del", err: unknown) => {
    metrics.error(op);
    outage.failed(err);
  };

  /** What `bytes` hold: a value, the placeholder, or {@link none} (not ours, undecodable). */
  const entryOf = (redisKey: string, bytes: Buffer): T | null | typeof none => {
    if (bytes.length === 1 && bytes[0] === 0) return null;
    if (bytes[0] !== valueTag) return none;
    try {
      return codec.decode(bytes.subarray(1));
    } catch (err) {
      // A value this codec cannot read (the schema changed, another writer): a miss, and the
      // load overwrites it.
      logger.debug({ cache: name, key: redisKey, err: String(err) }, "cache: undecodable entry");
      return none;
    }
  };

  const write = async (redisKey: string, value: T | null, ms: number): Promise<void> => {
    if (!outage.up()) return;
    let entry: Buffer;
    if (value === null) entry = placeholder;
    else {
      try {
        const payload = codec.encode(value);
        entry = Buffer.allocUnsafe(payload.length + 1);
        entry[0] = valueTag;
        entry.set(payload, 1);
      } catch (err) {
        // A value the codec cannot write (a bigint in JSON) is served uncached and logged as
        // an error: a bug to fix, not a reason to fail the caller.
        logger.error(
          { cache: name, key: redisKey, err: String(err) },
          "cache: cannot encode value",
        );
        metrics.error("set");
        return;
      }
    }
    try {
      await outage.bound(client.set(redisKey, entry, "PX", jitteredTtl(ms, jitter, random)));
      outage.answered();
    } catch (err) {
      failed("set", err);
    }
  };

  const load = async (loader: CacheLoader<T>): Promise<T | null> => {
    let value: T | null | undefined;
    try {
      value = await loader();
    } catch (err) {
      if (!isNotFound(err)) {
        metrics.load("error");
        throw err;
      }
      value = null;
    }
    if (value === undefined || value === null) {
      metrics.load("not_found");
      return null;
    }
    metrics.load("ok");
    return value;
  };

  // Keys deleted or set while their flight was running: its load may have read the state from
  // before the write, so it must not store that over the delete. This holds within a process;
  // across processes a load that raced a write elsewhere lives at most its TTL (as go-zero's).
  const stale = new Set<string>();
  const markStale = (keys: readonly string[]) => {
    for (const key of keys) if (flights.has(key)) stale.add(key);
  };
  // The read is inline (no helper of its own): each async step costs a promise on the hit path.
  const run = async (key: string, loader: CacheLoader<T>, ms: number): Promise<T | undefined> => {
    try {
      const redisKey = prefix + key;
      if (outage.up()) {
        let bytes: Buffer | null = null;
        try {
          bytes = await outage.bound(client.getBuffer(redisKey));
          outage.answered();
        } catch (err) {
          failed("get", err);
        }
        if (bytes !== null) {
          const entry = entryOf(redisKey, bytes);
          if (entry !== none) {
            metrics.hit();
            return entry ?? undefined;
          }
        }
      }
      metrics.miss();
      const value = await load(loader);
      if (!stale.has(key)) await write(redisKey, value, value === null ? notFoundTtl : ms);
      return value ?? undefined;
    } finally {
      if (stale.size !== 0) stale.delete(key);
    }
  };

  const del = async (keys: readonly string[]): Promise<void> => {
    if (keys.length === 0) return;
    markStale(keys);
    if (!outage.up()) {
      metrics.error("del");
      return;
    }
    try {
      await outage.bound(client.del(...keys.map((k) => prefix + k)));
      outage.answered();
    } catch (err) {
      failed("del", err);
    }
  };

  function getOrLoad(
    first: string | Context,
    second: string | CacheLoader<T>,
    third?: CacheLoader<T> | GetOrLoadOptions,
    fourth?: GetOrLoadOptions,
  ): Promise<T | undefined> {
    // Plain parameters, not a rest array: the hit path allocates what it must and no more.
    let ctx: Context | undefined;
    let key: string;
    let loader: CacheLoader<T>;
    let callOptions: GetOrLoadOptions | undefined;
    if (typeof first === "string") {
      key = first;
      loader = second as CacheLoader<T>;
      callOptions = third as GetOrLoadOptions | undefined;
    } else {
      ctx = first;
      key = second as string;
      loader = third as CacheLoader<T>;
      callOptions = fourth;
    }
    let ms = ttl;
    if (callOptions?.ttl !== undefined) {
      ms = callOptions.ttl;
      requireTtl("ttl", ms);
    }
    const joined = ctx !== undefined && flights.has(key);
    const shared = flights.do(key, () => run(key, loader, ms));
    return joined && ctx !== undefined ? untilCancelled(shared, ctx.signal) : shared;
  }

  return {
    getOrLoad,
    set: (key, value, callOptions) => {
      markStale([key]);
      return write(prefix + key, value, callOptions?.ttl ?? ttl);
    },
    del: (...keys) => del(keys),
    async invalidateAfter<R>(keys: InvalidationKeys<R>, work: () => Promise<R>): Promise<R> {
      const result = await work();
      const list = typeof keys === "function" ? keys(result) : keys;
      await del(typeof list === "string" ? [list] : list);
      return result;
    },
    status: () => (outage.up() ? "redis" : "loader"),
    close: () => {
      outage.close();
      metrics.close();
    },
  };
}

/** `promise`, or a rejection with the signal's reason once it aborts first. */
function untilCancelled<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(reasonOf(signal));
  return new Promise<T>((resolve, reject) => {
    const abort = () => {
      reject(reasonOf(signal));
    };
    signal.addEventListener("abort", abort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", abort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener("abort", abort);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}

function reasonOf(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new Error(String(reason));
}
