// The wait before each retry: exponential, capped, with jitter so that the clients a failure hit
// at the same instant do not come back at the same instant.

/** How long to wait before each retry; every field has a default. */
export interface BackoffOptions {
  /** The ceiling of the first wait, in ms. Default 25 (Envoy's). */
  base?: number;
  /** The largest ceiling, in ms. Default 250 (Envoy's: ten times the base). */
  max?: number;
  /** The ceiling grows by this factor per retry; at least 1. Default 2. */
  multiplier?: number;
  /**
   * `full` (the default): a uniform wait in [0, ceiling). `equal`: half the ceiling plus a
   * uniform wait in [0, ceiling / 2). Full jitter spreads the retries of many clients the most
   * and so does the least total work against a struggling server (the AWS Architecture Blog's
   * "Exponential Backoff and Jitter" measured it); equal jitter trades some of that for a floor
   * on each wait.
   */
  jitter?: "full" | "equal";
}

/** Backoff options with every default applied. */
export type ResolvedBackoff = Required<BackoffOptions>;

/** The defaults of {@link BackoffOptions}. */
export const backoffDefaults: ResolvedBackoff = {
  base: 25,
  max: 250,
  multiplier: 2,
  jitter: "full",
};

// Checked as strings: options may come from config, where the type promised nothing.
const jitters: ReadonlySet<string> = new Set(["full", "equal"]);

/** Applies the defaults and checks the values; the error names the option (`retry: backoff.max ...`). */
export function resolveBackoff(options: BackoffOptions = {}): ResolvedBackoff {
  const o: ResolvedBackoff = {
    base: options.base ?? backoffDefaults.base,
    max: options.max ?? backoffDefaults.max,
    multiplier: options.multiplier ?? backoffDefaults.multiplier,
    jitter: options.jitter ?? backoffDefaults.jitter,
  };
  if (!(o.base >= 0) || !Number.isFinite(o.base))
    throw new RangeError(`retry: backoff.base ${o.base} is not a finite number of ms >= 0`);
  if (!(o.max >= o.base) || !Number.isFinite(o.max))
    throw new RangeError(`retry: backoff.max ${o.max} is not a finite number of ms >= base`);
  if (!(o.multiplier >= 1) || !Number.isFinite(o.multiplier))
    throw new RangeError(`retry: backoff.multiplier ${o.multiplier} is not a finite number >= 1`);
  if (!jitters.has(o.jitter))
    throw new RangeError(
      `retry: backoff.jitter ${JSON.stringify(o.jitter)} is not "full" or "equal"`,
    );
  return o;
}

/**
 * The wait in ms before retry number `retry` (1 for the first), with `random` uniform in [0, 1):
 * the ceiling is `min(max, base * multiplier^(retry - 1))`, then the jitter applies.
 */
export function backoffDelay(backoff: ResolvedBackoff, retry: number, random: number): number {
  const ceiling = Math.min(backoff.max, backoff.base * backoff.multiplier ** (retry - 1));
  return backoff.jitter === "full" ? random * ceiling : ceiling / 2 + (random * ceiling) / 2;
}
