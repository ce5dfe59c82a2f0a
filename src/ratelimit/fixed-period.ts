import { performance } from "node:perf_hooks";
import { KeyTable } from "./key-table.js";
import { formatAmount, formatPeriod, requirePositive } from "./rate-limiter.js";
import type { LocalLimiterOptions, LocalRateLimiter } from "./rate-limiter.js";

/** Options of {@link createFixedPeriodLimiter}. */
export interface FixedPeriodOptions extends LocalLimiterOptions {
  /** Calls admitted per key in one period. Required, above 0. */
  limit: number;
  /** The period in milliseconds. Default 1000. */
  period?: number;
}

interface Window {
  count: number;
  /** When this key's period began, on the limiter's clock. */
  start: number;
}

/** The period of {@link FixedPeriodOptions}, defaulted and checked (the Redis limiter shares it). */
export function fixedPeriodMs(options: { limit: number; period?: number | undefined }): number {
  requirePositive("limit", options.limit);
  return requirePositive("period", options.period ?? 1000);
}

/** The description of a fixed period: `100 per minute`, `20 per 10s`. */
export function describeFixedPeriod(limit: number, period: number): string {
  return `${formatAmount(limit)} per ${formatPeriod(period)}`;
}

/**
 * A local fixed-period counter per key (go-zero `periodlimit`): at most `limit` tokens per
 * `period`. A key's period begins with its first call (as a Redis key's expiry does), not on a
 * wall-clock boundary. A refused call counts nothing, so a later smaller request may still fit.
 */
export function createFixedPeriodLimiter(options: FixedPeriodOptions): LocalRateLimiter {
  const period = fixedPeriodMs(options);
  const limit = options.limit;
  const now = options.now ?? performance.now.bind(performance);
  const table = new KeyTable<Window>(
    options.maxKeys ?? 100_000,
    Math.max(1000, period),
    (w, t) => t - w.start >= period,
  );
  return {
    description: describeFixedPeriod(limit, period),
    take(key: string, n = 1): boolean {
      const t = now();
      let window = table.get(key, t);
      if (window === undefined) {
        window = { count: 0, start: t };
        table.add(key, window);
      } else if (t - window.start >= period) {
        window.count = 0;
        window.start = t;
      }
      if (window.count + n > limit) return false;
      window.count += n;
      return true;
    },
    close: () => undefined,
  };
}
