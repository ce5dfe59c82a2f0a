// What a client tells its middleware about a call so that a retry can be safe, and what a retry
// tells the node picker back. Kept out of the Transporter so that custom transports, which set
// neither, get the safe answers (not idempotent, one more attempt may go anywhere).
import { createContextKey } from "../context.js";
import type { Context } from "../context.js";

/** What the client knows about sending a call again. */
export interface CallTraits {
  /**
   * Running the call twice has the effect of running it once: GET, HEAD, PUT, DELETE and
   * OPTIONS on HTTP, a gRPC method declared `idempotency_level = IDEMPOTENT` or
   * `NO_SIDE_EFFECTS`, or a call the caller marked (`CallOptions.idempotent`).
   */
  readonly idempotent: boolean;
  /** The request can be sent again as a whole: unary calls, not streams. */
  readonly replayable: boolean;
}

const traitsKey = createContextKey<CallTraits | undefined>(undefined, "call traits");

// The hosts (`host:port`) earlier attempts of a call went to; created by the first retry only.
const avoidKey = createContextKey<Set<string> | undefined>(undefined, "hosts to avoid");

/** The traits a client recorded for its call, or undefined (a custom transport, a test). */
export function callTraits(ctx: Context): CallTraits | undefined {
  return ctx.values.get(traitsKey);
}

/** Records the traits of a call (for client transports). */
export function setCallTraits(ctx: Context, traits: CallTraits): void {
  ctx.values.set(traitsKey, traits);
}

/** HTTP methods whose repetition does no more than the first request (RFC 9110, 9.2.2). */
const idempotentMethods: ReadonlySet<string> = new Set(["GET", "HEAD", "PUT", "DELETE", "OPTIONS"]);

/** Whether an HTTP method is idempotent. */
export function idempotentMethod(method: string): boolean {
  return idempotentMethods.has(method.toUpperCase());
}

/**
 * Asks the node picker to prefer another node than `host` (`host:port`) for the next attempts
 * of this call: a retry after a 503 should not go back to the node that just refused.
 */
export function avoidHost(ctx: Context, host: string): void {
  let hosts = ctx.values.get(avoidKey);
  if (hosts === undefined) {
    hosts = new Set();
    ctx.values.set(avoidKey, hosts);
  }
  hosts.add(host);
}

/** The hosts a retry asked the picker to avoid, if any. */
export function avoidedHosts(ctx: Context): ReadonlySet<string> | undefined {
  return ctx.values.get(avoidKey);
}
