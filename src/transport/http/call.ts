// One protobuf call on the HTTP server, from routing to the reply: what it carries, running its
// handler, and aborting it when the client goes away.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { CancellableContext, Context } from "../../context.js";
import type { Handler } from "../../middleware/middleware.js";
import { serverTransport } from "../transport.js";
import type { CompiledRoute } from "../../http-rule/compile.js";
import { HttpTransporter } from "./transporter.js";

/** What one protobuf call carries from routing to the reply. */
export interface RpcCall {
  route: CompiledRoute;
  handler: Handler;
  ctx: CancellableContext;
  transport: HttpTransporter;
  req: IncomingMessage;
  res: ServerResponse;
  vars: [string, string][];
  search: string;
}

/** Runs a handler; a synchronous throw becomes a rejection. */
export function invoke(handler: Handler, ctx: Context, input: unknown): Promise<unknown> {
  try {
    return handler(ctx, input);
  } catch (err) {
    return Promise.reject(err instanceof Error ? err : new Error(String(err)));
  }
}

/**
 * Aborts a call's context when its connection closes before the reply is written (the client
 * went away, or a forced stop). Hooked only when a handler reads `ctx.signal`.
 */
export function abortOnClose(ctx: CancellableContext): void {
  const transport = serverTransport(ctx);
  if (!(transport instanceof HttpTransporter)) return;
  const res = transport.response;
  const check = () => {
    if (!res.writableFinished)
      ctx.abort(new DOMException("client closed the request", "AbortError"));
  };
  if (res.destroyed) check();
  else res.once("close", check);
}
