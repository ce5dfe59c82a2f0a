import type { Context } from "../context.js";

/** Per-call options of every client method (HTTP, gRPC, Connect). */
export interface CallOptions {
  /**
   * The context of the caller (a server handler's `ctx`): its deadline and cancellation carry
   * over, and middleware can read its values (metadata propagation).
   */
  context?: Context;
  /** Deadline of this call in ms, overriding the client's `timeout`. */
  timeoutMs?: number;
  /** Cancels the call. */
  signal?: AbortSignal;
  /** Extra request headers. */
  headers?: Record<string, string>;
  /**
   * Marks the call idempotent (or not), overriding what the method says (HTTP GET, HEAD, PUT,
   * DELETE, OPTIONS and gRPC methods with an `idempotency_level` are idempotent): the retry
   * middleware sends an idempotent call again even when it may have reached the server.
   */
  idempotent?: boolean;
}
