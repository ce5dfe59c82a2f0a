// The retry budget: retries may add at most a fraction of the recent calls, plus a small reserve
// per second so that a quiet client can still retry. When the backend is down every call fails,
// and without a budget each would be sent `attempts` times: the outage would multiply the load
// on the thing that is already failing (Finagle's RetryBudget, gRPC's retry throttling).
import { RollingCounts } from "../internal/rolling-counts.js";

/** How many retries the budget allows; every field has a default. */
export interface RetryBudgetOptions {
  /** Retries allowed per call made in the window (0.1: one retry per ten calls). Default 0.1. */
  ratio?: number;
  /** Retries allowed per second of the window whatever the traffic. Default 10 (Finagle's). */
  minPerSecond?: number;
  /** The window the calls and retries are counted over, in ms. Default 10 000. */
  window?: number;
}

/** Budget options with every default applied. */
export type ResolvedRetryBudget = Required<RetryBudgetOptions>;

/** The defaults of {@link RetryBudgetOptions}. */
export const retryBudgetDefaults: ResolvedRetryBudget = {
  ratio: 0.1,
  minPerSecond: 10,
  window: 10_000,
};

/** Applies the defaults and checks the values; the error names the option. */
export function resolveRetryBudget(options: RetryBudgetOptions = {}): ResolvedRetryBudget {
  const o: ResolvedRetryBudget = {
    ratio: options.ratio ?? retryBudgetDefaults.ratio,
    minPerSecond: options.minPerSecond ?? retryBudgetDefaults.minPerSecond,
    window: options.window ?? retryBudgetDefaults.window,
  };
  if (!(o.ratio >= 0) || !Number.isFinite(o.ratio))
    throw new RangeError(`retry: budget.ratio ${o.ratio} is not a finite number >= 0`);
  if (!(o.minPerSecond >= 0) || !Number.isFinite(o.minPerSecond))
    throw new RangeError(
      `retry: budget.minPerSecond ${o.minPerSecond} is not a finite number >= 0`,
    );
  if (!(o.window > 0) || !Number.isFinite(o.window))
    throw new RangeError(`retry: budget.window ${o.window} is not a positive number of ms`);
  return o;
}

/**
 * The counts a budget decides on: calls and retries over a rolling window. Keep one across a
 * change of `ratio` or `minPerSecond` (they are read at each decision); a new `window` needs a
 * new budget.
 */
export interface RetryBudget {
  /** The window this budget counts over, in ms. */
  readonly window: number;
  /** Counts a call (its first attempt). */
  deposit(): void;
  /** Takes one retry if the budget allows it under `options`; false when it is spent. */
  withdraw(options: ResolvedRetryBudget): boolean;
}

/**
 * Creates the counts of a retry budget over `window` ms (10 buckets); `now` is a clock in ms
 * (default `performance.now`).
 */
export function createRetryBudget(
  window: number = retryBudgetDefaults.window,
  now: () => number = () => performance.now(),
): RetryBudget {
  resolveRetryBudget({ window });
  // Calls are counted as plain events and retries as marked ones.
  const counts = new RollingCounts(window, 10, now);
  return {
    window,
    deposit() {
      counts.add(false);
    },
    withdraw(options) {
      const { total, marked: retries } = counts.sum();
      const calls = total - retries;
      const allowed = options.ratio * calls + (options.minPerSecond * window) / 1000;
      if (retries + 1 > allowed) return false;
      counts.add(true);
      return true;
    },
  };
}
