import { KratosError } from "../errors/error.js";
import { reasons } from "../errors/reasons.js";
import { createBbrLimiter } from "../internal/bbr.js";
import type { BbrOptions, Limiter } from "../internal/bbr.js";
import type { Middleware } from "./middleware.js";

export { createBbrLimiter, createUtilizationSampler } from "../internal/bbr.js";
export type {
  Admission,
  BbrLimiter,
  BbrOptions,
  BbrStats,
  Limiter,
  UtilizationSampler,
  UtilizationSamplerOptions,
} from "../internal/bbr.js";

/** Options of {@link ratelimit}: the BBR limiter's options, or a limiter of your own. */
export interface RateLimitOptions extends BbrOptions {
  /**
   * The limiter that admits or sheds each call. Default: a BBR limiter built from the other
   * options (see {@link createBbrLimiter}); when set, the other options are ignored.
   */
  limiter?: Limiter;
  /**
   * Read per call: while it returns false, calls pass without being counted, so shedding can be
   * switched on and off live (e.g. `() => live.current` from `followLive`). Default: always on.
   */
  enabled?: () => boolean;
}

// Kratos's message (aegis ErrLimitExceed), so clients of both match the same error.
const message = "service unavailable due to rate limit exceeded";

/**
 * Adaptive load shedding (Kratos `ratelimit`): a call the limiter refuses fails at once with
 * 429 reason `RATELIMIT`, without running the handler and without queueing, so the calls that
 * are admitted keep their latency while the process is overloaded. Each `server()` call makes
 * its own limiter; put the middleware early in the chain, so shed calls cost little.
 */
export const ratelimit = {
  server(options: RateLimitOptions = {}): Middleware {
    const limiter = options.limiter ?? createBbrLimiter(options);
    const enabled = options.enabled;
    return (next) =>
      async function ratelimit(ctx, req) {
        if (enabled !== undefined && !enabled()) return next(ctx, req);
        const admission = limiter.allow();
        if (admission === undefined) throw new KratosError(429, reasons.rateLimit, message);
        try {
          return await next(ctx, req);
        } finally {
          admission.done();
        }
      };
  },
};
