import type { Redis } from "ioredis";
import { withTimeout } from "../internal/with-timeout.js";
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

// How long after a limiter is made a failure may be the client's first connection still
// being set up (not worth a warning unless the probe still fails after it).
const startupGrace = 2000;

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
  const { client } = options;
  const prefix = options.prefix ?? redisLimiterDefaults.prefix;
  const timeout = options.timeout ?? redisLimiterDefaults.timeout;
  const silent = `Redis did not answer within ${timeout} ms`;
  const warnInterval = options.warnInterval ?? redisLimiterDefaults.warnInterval;
  const probeInterval = options.probeInterval ?? redisLimiterDefaults.probeInterval;
  const logger = options.logger ?? discardLogger;
  const fallback = core.fallback;
  const created = Date.now();
  let shared = true;
  let closed = false;
  let probe: ReturnType<typeof setInterval> | undefined;
  let probing = false;
  // Redis has answered this limiter at least once.
  let answered = false;
  // A failure not reported yet because the client may still be making its first connection.
  let pending = false;
  // The current outage was reported, so its end is logged too.
  let reported = false;
  let lastWarning = Number.NEGATIVE_INFINITY;
  let suppressed = 0;

  const report = (err: unknown) => {
    const now = Date.now();
    if (now - lastWarning < warnInterval) {
      suppressed++;
      return;
    }
    lastWarning = now;
    reported = true;
    logger.warn(
      {
        limit: core.description,
        prefix,
        err: err instanceof Error ? err.message : String(err),
        ...(suppressed > 0 && { outagesSinceLastWarning: suppressed }),
      },
      "rate limit: Redis unreachable, using the local limit of this instance",
    );
    suppressed = 0;
  };

  const recovered = () => {
    if (probe !== undefined) clearInterval(probe);
    probe = undefined;
    if (closed) return;
    shared = true;
    answered = true;
    pending = false;
    if (reported) {
      logger.info(
        { limit: core.description, prefix },
        "rate limit: Redis is back, shared limit resumed",
      );
    }
    reported = false;
  };

  const probeFailed = (err: unknown) => {
    if (pending && Date.now() - created >= startupGrace) {
      pending = false;
      report(err);
    }
  };

  const failed = (err: unknown) => {
    // Calls in flight when Redis went away fail together: one outage, one report.
    if (closed || !shared) return;
    shared = false;
    // Calls that come before the client's first connection is up are no outage yet; if it
    // lasts past the grace, the probe reports it.
    if (!answered && Date.now() - created < startupGrace) pending = true;
    else report(err);
    probe = setInterval(() => {
      if (probing) return;
      probing = true;
      void withTimeout(client.ping(), timeout, silent)
        .then(recovered, probeFailed)
        .finally(() => {
          probing = false;
        });
    }, probeInterval);
    // A probe must not keep a process alive that has nothing else to do.
    probe.unref();
  };

  return {
    description: core.description,
    status: () => (shared && !closed ? "shared" : "fallback"),
    take(key: string, n = 1): boolean | Promise<boolean> {
      if (!shared || closed) return fallback.take(key, n);
      return withTimeout(core.take(prefix + key, n), timeout, silent).then(
        (allowed) => {
          answered = true;
          return allowed;
        },
        (err: unknown) => {
          failed(err);
          return fallback.take(key, n);
        },
      );
    },
    close() {
      closed = true;
      if (probe !== undefined) clearInterval(probe);
      probe = undefined;
    },
  };
}

/** The 0/1 answer of a limit script, or an error for anything else (a wrong server, a proxy). */
export function admitted(reply: unknown): boolean {
  if (reply === 1) return true;
  if (reply === 0) return false;
  throw new Error(`unexpected reply from the rate limit script: ${String(reply)}`);
}
