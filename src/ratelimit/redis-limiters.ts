import { createFixedPeriodLimiter, describeFixedPeriod, fixedPeriodMs } from "./fixed-period.js";
import { requirePositive } from "./rate-limiter.js";
import { admitted, createRedisLimiter } from "./redis-fallback.js";
import type { RedisLimiterOptions, RedisRateLimiter } from "./redis-fallback.js";
import { fixedPeriodScript, runScript, tokenBucketScript } from "./redis-script.js";
import { createTokenBucketLimiter, describeTokenBucket, tokenBucketBurst } from "./token-bucket.js";

/** Options of {@link createRedisTokenBucketLimiter}. */
export interface RedisTokenBucketOptions extends RedisLimiterOptions {
  /** Tokens added per second, shared by every instance. Required, above 0. */
  rate: number;
  /** The bucket's size. Default `rate` (at least 1). */
  burst?: number;
}

/** Options of {@link createRedisFixedPeriodLimiter}. */
export interface RedisFixedPeriodOptions extends RedisLimiterOptions {
  /** Calls admitted per key in one period, across every instance. Required, above 0. */
  limit: number;
  /** The period in milliseconds. Default 1000. */
  period?: number;
}

/**
 * A token bucket per key kept in Redis (go-zero `tokenlimit`): every instance that uses the same
 * client target and prefix draws from one bucket. An atomic Lua script refills and takes in one
 * step on Redis's clock; idle buckets expire. Falls back to a local token bucket of the same
 * rate while Redis is unreachable (see {@link RedisLimiterOptions}). `n` must be an integer.
 */
export function createRedisTokenBucketLimiter(options: RedisTokenBucketOptions): RedisRateLimiter {
  const burst = tokenBucketBurst(options);
  const perMs = options.rate / 1000;
  // The bucket is full again after burst / perMs ms: past that, a missing key means the same.
  const ttl = Math.ceil(burst / perMs) + 1000;
  const { client } = options;
  return createRedisLimiter(options, {
    description: describeTokenBucket(options.rate, burst),
    fallback: options.fallback ?? createTokenBucketLimiter({ rate: options.rate, burst }),
    take: async (key, n) =>
      admitted(await runScript(client, tokenBucketScript, [key], [perMs, burst, n, ttl])),
  });
}

/**
 * A fixed-period counter per key kept in Redis (go-zero `periodlimit`): at most `limit` per
 * `period` across every instance; a key's period starts with its first call and the counter
 * expires with it. Falls back to a local fixed-period limiter while Redis is unreachable.
 * `n` must be an integer (Redis INCRBY).
 */
export function createRedisFixedPeriodLimiter(options: RedisFixedPeriodOptions): RedisRateLimiter {
  const period = fixedPeriodMs(options);
  requirePositive("limit", options.limit);
  const { client } = options;
  return createRedisLimiter(options, {
    description: describeFixedPeriod(options.limit, period),
    fallback: options.fallback ?? createFixedPeriodLimiter({ limit: options.limit, period }),
    take: async (key, n) =>
      admitted(
        await runScript(client, fixedPeriodScript, [key], [options.limit, Math.ceil(period), n]),
      ),
  });
}
