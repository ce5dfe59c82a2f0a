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
  // The error a failed call ends with: statuses pass, anything else is a bug, logged once.
  const recover = (ctx: Context, err: unknown): KratosError => {
    if (err instanceof KratosError) return err;
    // Errors that carry a status are not bugs: a wrapped KratosError, a cancellation (499),
    // a deadline (504), a downstream call's gRPC / Connect status. They pass, converted.
    const converted = fromError(err);
    if (converted.code !== 500 || converted.reason !== "") return converted;
    log.error(
      {
        operation: serverTransport(ctx)?.operation ?? "",
        err: converted.message,
        stack: err instanceof Error ? err.stack : undefined,
      },
      "recovered from an unexpected error",
    );
    return handler(ctx, err);
  };
  // Not an async function: on the hot path it adds one `then`, not an async frame and an await.
  return (next) =>
    function recovery(ctx, req) {
      let result: Promise<unknown>;
      try {
        result = next(ctx, req);
      } catch (err) {
        return Promise.reject(recover(ctx, err));
      }
      return result.then(undefined, (err: unknown) => {
        throw recover(ctx, err);
      });
    };
}

function unknownRequest(_ctx: Context, err: unknown): KratosError {
  return new KratosError(500, reasons.unknown, "unknown request error", { cause: err });
}
