/**
 * Cache-aside on Redis (go-zero's `cache`): `getOrLoad` reads a key from Redis or loads and
 * stores it, with single flight per key, a short-lived not-found placeholder, TTL jitter,
 * protobuf-es or JSON values, delete-after-write helpers and hit / miss / load / error
 * counters; while Redis is unreachable every call goes to the loader. It does not load ioredis:
 * the app passes the client (`createRedisClient` of `kratos-ts/ratelimit/redis`, set up to
 * fail fast, suits both).
 *
 * @module
 */
export { cacheDefaults, createCache } from "./cache.js";
export type {
  Cache,
  CacheLoader,
  CacheOptions,
  GetOrLoadOptions,
  InvalidationKeys,
} from "./cache.js";
export { cacheCounters } from "./cache-metrics.js";
export { jsonCodec, protoCodec } from "./codec.js";
export type { CacheCodec } from "./codec.js";
