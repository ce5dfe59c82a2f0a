import type { Redis } from "ioredis";
import { redisOutage } from "../internal/redis-outage.js";
import { discardLogger } from "../log/logger.js";
import type { Logger } from "../log/logger.js";
import type { LocalRateLimiter, RateLimiter } from "./rate-limiter.js";

/** Options every Redis limiter shares; only `client` is required. */
export interface RedisLimiterOptions {
  /**
   * The Redis client (ioredis). Shared by any number of limiters; they never close it. Make it
   * with `createRedisClient`, or give it an `error` listener and `enableOfflineQueue: false`
   * yourself: without the listener a lost connection crashes the process, and with an offline
   * queue calls wait for Redis instead of falling back.
   */
  client: Redis;
  /** Prepended to every key in Redis: one prefix per rule keeps rules apart. Default `kratos-ts:ratelimit:`. */
  prefix?: string;
  /** How long a call waits for Redis before it falls back, in ms. Default 100. */
  timeout?: number;
  /**
   * Answers while Redis is unreachable. Default: a local limiter with the same settings, per
   * instance (with K instances, up to K times the shared limit passes during an outage).
   */
  fallback?: LocalRateLimiter;
  /** Where the outage warning and the recovery line go. Default: nowhere. */
  logger?: Logger;
  /** At most one outage warning per this many ms. Default 30000. */
  warnInterval?: number;
  /** How often to ping Redis while it is unreachable, in ms. Default 100 (go-zero's). */
  probeInterval?: number;
}

/** A limiter whose counters live in Redis. */
export interface RedisRateLimiter extends RateLimiter {
  take(key: string, n?: number): boolean | Promise<boolean>;
  /**
   * `shared` while calls go to Redis; `fallback` from a failed Redis call until a ping succeeds
   * (the local limiter answers meanwhile, without waiting for Redis).
   */
  status(): "shared" | "fallback";
}

/** The defaults of {@link RedisLimiterOptions}. */
export const redisLimiterDefaults = {
  prefix: "kratos-ts:ratelimit:",
  timeout: 100,
  warnInterval: 30_000,
  probeInterval: 100,
} as const;

/** What a Redis limiter adds to the shared machinery: its script call and its fallback. */
export interface RedisLimiterCore {
  description: string;
  fallback: LocalRateLimiter;
  /** Takes `n` for the full Redis key; resolves true when admitted. */
  take(redisKey: string, n: number): Promise<boolean>;
}

/**
 * Wraps a Redis script call with go-zero's rescue behaviour: any failure (refused connection,
 * timeout, an unexpected reply) answers that call from the local fallback and switches the
 * limiter to the fallback, so later calls do not wait on a dead Redis; a background ping every
 * `probeInterval` switches it back. Redis trouble never fails a call.
 */
export function createRedisLimiter(
  options: RedisLimiterOptions,
  core: RedisLimiterCore,
): RedisRateLimiter {
  const prefix = options.prefix ?? redisLimiterDefaults.prefix;
  const fallback = core.fallback;
  const outage = redisOutage({
    client: options.client,
    timeout: options.timeout ?? redisLimiterDefaults.timeout,
    warnInterval: options.warnInterval ?? redisLimiterDefaults.warnInterval,
    probeInterval: options.probeInterval ?? redisLimiterDefaults.probeInterval,
    logger: options.logger ?? discardLogger,
    fields: { limit: core.description, prefix },
    downMessage: "rate limit: Redis unreachable, using the local limit of this instance",
    backMessage: "rate limit: Redis is back, shared limit resumed",
  });

  return {
    description: core.description,
    status: () => (outage.up() ? "shared" : "fallback"),
    take(key: string, n = 1): boolean | Promise<boolean> {
      if (!outage.up()) return fallback.take(key, n);
      return outage.bound(core.take(prefix + key, n)).then(
        (allowed) => {
          outage.answered();
          return allowed;
        },
        (err: unknown) => {
          outage.failed(err);
          return fallback.take(key, n);
        },
      );
    },
    close() {
      outage.close();
    },
  };
}

/** The 0/1 answer of a limit script, or an error for anything else (a wrong server, a proxy). */
export function admitted(reply: unknown): boolean {
  if (reply === 1) return true;
  if (reply === 0) return false;
  throw new Error(`unexpected reply from the rate limit script: ${String(reply)}`);
}
