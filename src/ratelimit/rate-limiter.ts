/**
 * The seam of the rate limits: "may `n` calls under key `k` go now?". Local limiters answer at
 * once (a boolean); distributed ones answer with a promise. The middleware accepts either, so
 * a local limit costs no promise and no await on the hot path.
 */
export interface RateLimiter {
  /**
   * Takes `n` (default 1) tokens for `key`: true when they were there (the call may go), false
   * when the limit is exhausted. Never rejects: a limiter that depends on a remote store falls
   * back to a local answer when the store fails.
   */
  take(key: string, n?: number): boolean | Promise<boolean>;
  /** The limit in words, for error messages and logs: `50 per second (burst 100)`. */
  readonly description: string;
  /**
   * Releases timers and state (a distributed limiter's Redis probe). A replaced limiter should be
   * closed; calls that still reach it after `close()` are answered by its local fallback.
   */
  close(): void;
}

/** A limiter that decides in-process, synchronously. */
export interface LocalRateLimiter extends RateLimiter {
  take(key: string, n?: number): boolean;
}

/** Options every local limiter shares; every field is optional. */
export interface LocalLimiterOptions {
  /** The clock in milliseconds (monotonic). Default `performance.now`; tests inject their own. */
  now?: () => number;
  /**
   * The most keys tracked at once. Keys whose state is back at its initial value are dropped as
   * time passes; beyond this many live keys the oldest are forgotten (their callers start
   * afresh), so keys taken from request values cannot grow memory without bound. Default 100000.
   */
  maxKeys?: number;
}

/** Throws a `RangeError` naming `name` unless `value` is a finite number above zero. */
export function requirePositive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) {
    throw new RangeError(`${name} must be a finite number above 0, got ${String(value)}`);
  }
  return value;
}

/** Formats a number for a description: `50`, `0.5`. */
export function formatAmount(value: number): string {
  return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(6)));
}

/** Formats a period in ms for a description: `second`, `10s`, `250ms`, `minute`. */
export function formatPeriod(ms: number): string {
  if (ms === 1000) return "second";
  if (ms === 60_000) return "minute";
  if (ms === 3_600_000) return "hour";
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${formatAmount(ms)}ms`;
}
