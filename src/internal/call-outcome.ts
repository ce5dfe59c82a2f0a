import type { Context } from "../context.js";
import { fromError } from "../errors/from-error.js";

/** Codes that say the backend could not serve the call, as in Go Kratos. */
const failureCodes: ReadonlySet<number> = new Set([500, 503, 504]);

/**
 * What a failed client call says about the backend, for the circuit breaker and the selector's
 * done feedback: `failure` for 500, 503, 504 and transport failures (refused connections become
 * 500 or 503, deadlines 504), `ignore` when the caller gave up, `success` for everything else
 * (a 404 or a 400 is the caller's business, not a sick backend).
 */
export function callOutcome(ctx: Context, err: unknown): "success" | "failure" | "ignore" {
  let code = fromError(err).code;
  // Our clients see their own abort as an AbortError (499) before they convert it; the
  // context says whether it was the deadline (504: the backend was too slow) or the caller.
  if (code === 499 && ctx.signal.aborted) code = fromError(ctx.signal.reason).code;
  if (code === 499) return "ignore";
  return failureCodes.has(code) ? "failure" : "success";
}
