import type { Context } from "../context.js";
import { KratosError } from "../errors/error.js";
import { fromError } from "../errors/from-error.js";
import { reasons } from "../errors/reasons.js";
import { discardLogger } from "../log/logger.js";
import type { Logger } from "../log/logger.js";
import { serverTransport } from "../transport/transport.js";
import type { Middleware } from "./middleware.js";

/** Options of {@link recovery}. */
export interface RecoveryOptions {
  /** Where the recovered error and its stack are written. Default: nowhere. */
  logger?: Logger;
  /**
   * Turns the unexpected error into the error the client gets. Default: 500 reason `UNKNOWN`
   * "unknown request error" (Kratos `ErrUnknownRequest`), so internals never leak to clients.
   */
  handler?: (ctx: Context, err: unknown) => KratosError;
}

/**
 * Recovers from handler bugs: a thrown or rejected error that carries no status (not a
 * {@link KratosError}, a cancellation, a deadline or a downstream call's status) is logged once with its stack and the operation, and the
 * client gets 500 reason `UNKNOWN`. The process and other calls are unaffected. Put it first
 * (outermost) in the chain.
 */
export function recovery(options: RecoveryOptions = {}): Middleware {
  const log = options.logger ?? discardLogger;
  const handler = options.handler ?? unknownRequest;
  return (next) =>
    async function recovery(ctx, req) {
      try {
        return await next(ctx, req);
      } catch (err) {
        if (err instanceof KratosError) throw err;
        // Errors that carry a status are not bugs: a wrapped KratosError, a cancellation (499),
        // a deadline (504), a downstream call's gRPC / Connect status. They pass, converted.
        const converted = fromError(err);
        if (converted.code !== 500 || converted.reason !== "") throw converted;
        log.error(
          {
            operation: serverTransport(ctx)?.operation ?? "",
            err: converted.message,
            stack: err instanceof Error ? err.stack : undefined,
          },
          "recovered from an unexpected error",
        );
        throw handler(ctx, err);
      }
    };
}

function unknownRequest(_ctx: Context, err: unknown): KratosError {
  return new KratosError(500, reasons.unknown, "unknown request error", { cause: err });
}
