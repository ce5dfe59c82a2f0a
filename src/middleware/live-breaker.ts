// An SRE breaker whose settings can change while calls run: the settings are read on every
// call, and a new breaker (with an empty window) replaces the old one when they change, since
// a window measured under another K or length says nothing reliable under the new one.
import { createSreBreaker } from "./circuitbreaker.js";
import type { Breaker, SreBreakerOptions } from "./circuitbreaker.js";

/** The SRE breaker's settings as plain data (what a config holds). */
export type SreBreakerSettings = Omit<SreBreakerOptions, "now" | "random">;

/**
 * A {@link Breaker} that follows `settings()` (e.g. `() => live.current`): compared by
 * reference on each call, so keep the same object while the settings do not change. Use it in
 * `circuitBreaker.client({ breakerFor: () => liveSreBreaker(() => live.current) })`. Bad
 * settings throw a RangeError when first used: validate them before they go live.
 */
export function liveSreBreaker(
  settings: () => SreBreakerSettings,
  runtime: Pick<SreBreakerOptions, "now" | "random"> = {},
): Breaker {
  let seen = settings();
  let breaker = createSreBreaker({ ...seen, ...runtime });
  const current = (): Breaker => {
    const next = settings();
    if (next !== seen) {
      seen = next;
      breaker = createSreBreaker({ ...next, ...runtime });
    }
    return breaker;
  };
  return {
    allow: () => current().allow(),
    markSuccess: () => {
      current().markSuccess();
    },
    markFailure: () => {
      current().markFailure();
    },
  };
}
