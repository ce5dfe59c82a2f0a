/**
 * Rate limits shared by every instance through Redis (go-zero `tokenlimit` / `periodlimit`),
 * with a local fallback while Redis is unreachable, and a Redis client set up for them.
 *
 * @module
 */
export { createRedisClient, redisClientDefaults } from "../internal/redis-client.js";
export type { RedisClientOptions } from "../internal/redis-client.js";
export { redisLimiterDefaults } from "./redis-fallback.js";
export type { RedisLimiterOptions, RedisRateLimiter } from "./redis-fallback.js";
export { createRedisFixedPeriodLimiter, createRedisTokenBucketLimiter } from "./redis-limiters.js";
export type { RedisFixedPeriodOptions, RedisTokenBucketOptions } from "./redis-limiters.js";
export type { LocalRateLimiter, RateLimiter } from "./rate-limiter.js";
