import type { Context } from "../context.js";

/** Handles one call: the service method, or the rest of the chain as seen by a middleware. */
export type Handler = (ctx: Context, req: unknown) => Promise<unknown>;

/** Wraps a handler: logging, auth, metrics... The same chain runs on every transport. */
export type Middleware = (next: Handler) => Handler;

/** Composes middleware; the first is outermost: `chain(a, b)(h)` runs a, then b, then h. */
export function chain(...middleware: Middleware[]): Middleware {
  return (next) => {
    let handler = next;
    for (let i = middleware.length - 1; i >= 0; i--) {
      const m = middleware[i];
      if (m !== undefined) handler = m(handler);
    }
    return handler;
  };
}
