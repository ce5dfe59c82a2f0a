import { recovery, validate } from "kratos-ts/middleware";
import type { Middleware } from "kratos-ts/middleware";
import type { Logger } from "kratos-ts/log";

/**
 * The layout's default chain, the same on HTTP and gRPC: recovery outermost, so a bug in a
 * handler answers 500 `UNKNOWN` and is logged with its stack instead of escaping; then
 * validate, so handlers only see requests that keep their buf.validate rules.
 */
export function layoutMiddleware(log: Logger): Middleware[] {
  return [recovery({ logger: log }), validate()];
}
