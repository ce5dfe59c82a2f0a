import { performance } from "node:perf_hooks";
import { KeyTable } from "./key-table.js";
import { formatAmount, requirePositive } from "./rate-limiter.js";
import type { LocalLimiterOptions, LocalRateLimiter } from "./rate-limiter.js";

/** Options of {@link createTokenBucketLimiter}. */
export interface TokenBucketOptions extends LocalLimiterOptions {
  /** Tokens added per second (the sustained rate). Required, above 0. */
  rate: number;
  /**
   * The bucket's size: how many calls may go at once after a quiet spell. Default `rate`
   * (at least 1): one second's worth.
   */
  burst?: number;
}

interface Bucket {
  tokens: number;
  /** When `tokens` was last brought up to date, on the limiter's clock. */
  at: number;
}

/** The burst of {@link TokenBucketOptions}, defaulted and checked (the Redis limiter shares it). */
export function tokenBucketBurst(options: { rate: number; burst?: number | undefined }): number {
  requirePositive("rate", options.rate);
  return requirePositive("burst", options.burst ?? Math.max(1, options.rate));
}

/** The description of a token bucket: `50 per second (burst 100)`. */
export function describeTokenBucket(rate: number, burst: number): string {
  return `${formatAmount(rate)} per second (burst ${formatAmount(burst)})`;
}

/**
 * A local token bucket per key (go-zero's rescue limiter, `golang.org/x/time/rate`): each key's
 * bucket holds up to `burst` tokens and refills at `rate` per second; a call takes `n` tokens or
 * is refused, and a refused call takes none. Synchronous, no timers: the bucket is refilled
 * from the clock when it is read.
 */
export function createTokenBucketLimiter(options: TokenBucketOptions): LocalRateLimiter {
  const burst = tokenBucketBurst(options);
  const perMs = options.rate / 1000;
  const now = options.now ?? performance.now.bind(performance);
  // A bucket is full again `burst / perMs` ms after its last take; a full bucket is no state.
  const refill = burst / perMs;
  const table = new KeyTable<Bucket>(
    options.maxKeys ?? 100_000,
    Math.max(1000, refill),
    (b, t) => b.tokens + (t - b.at) * perMs >= burst,
  );
  return {
    description: describeTokenBucket(options.rate, burst),
    take(key: string, n = 1): boolean {
      const t = now();
      const bucket = table.get(key, t);
      if (bucket === undefined) {
        if (n > burst) return false;
        table.add(key, { tokens: burst - n, at: t });
        return true;
      }
      // max(0, ...): a clock that steps back (an injected one) must not drain the bucket.
      const tokens = Math.min(burst, bucket.tokens + Math.max(0, t - bucket.at) * perMs);
      bucket.at = Math.max(bucket.at, t);
      if (tokens < n) {
        bucket.tokens = tokens;
        return false;
      }
      bucket.tokens = tokens - n;
      return true;
    },
    close: () => undefined,
  };
}
