import type { Context } from "../context.js";
import { fromError } from "../errors/from-error.js";
import type { Logger } from "../log/logger.js";
import { clientTransport, serverTransport } from "../transport/transport.js";
import type { Transporter } from "../transport/transport.js";
import { defaultArgs } from "./log-args.js";
import type { Middleware } from "./middleware.js";

/** Options of {@link logging}. */
export interface LoggingOptions {
  /** Where the lines go. */
  logger: Logger;
  /**
   * What the `args` field shows of a request. Default: the message as proto JSON with the values
   * of secret-looking keys (password, secret, token, authorization, api key...) replaced by
   * `[REDACTED]`, cut to `maxArgsLength` characters. Return undefined to leave `args` out.
   */
  args?: (req: unknown, ctx: Context) => unknown;
  /** The longest `args` rendering, in characters. Default 1024. */
  maxArgsLength?: number;
}

/**
 * One log line per call (Kratos `logging.Server` / `logging.Client`): `kind` (server, client),
 * `component` (http, grpc), `operation`, `args`, `code` (200 on success), `reason`, `stack` on
 * error, `latency` in seconds; info level on success, error level on failure.
 */
export const logging = {
  server(options: LoggingOptions): Middleware {
    return build("server", serverTransport, options);
  },
  client(options: LoggingOptions): Middleware {
    return build("client", clientTransport, options);
  },
};

function build(
  kind: "server" | "client",
  transportOf: (ctx: Context) => Transporter | undefined,
  options: LoggingOptions,
): Middleware {
  const log = options.logger;
  const max = options.maxArgsLength ?? 1024;
  const args = options.args ?? ((req: unknown, ctx: Context) => defaultArgs(req, ctx, max));
  const message = `${kind} call`;
  return (next) =>
    async function logging(ctx, req) {
      const start = performance.now();
      try {
        const reply = await next(ctx, req);
        // With info off (the usual production level for call logs), build nothing.
        if (log.isLevelEnabled?.("info") !== false) {
          log.info(callFields(kind, transportOf(ctx), args, ctx, req, start, 200, ""), message);
        }
        return reply;
      } catch (err) {
        const e = fromError(err);
        const fields = callFields(kind, transportOf(ctx), args, ctx, req, start, e.code, e.reason);
        fields.err = e.message;
        fields.stack = (err instanceof Error ? err : e).stack;
        log.error(fields, message);
        throw err;
      }
    };
}

/** The fields of a call line, as one object literal (no closure or spread per call). */
function callFields(
  kind: "server" | "client",
  transport: Transporter | undefined,
  args: (req: unknown, ctx: Context) => unknown,
  ctx: Context,
  req: unknown,
  start: number,
  code: number,
  reason: string,
): Record<string, unknown> {
  return {
    kind,
    component: transport?.kind ?? "",
    operation: transport?.operation ?? "",
    args: safeArgs(args, req, ctx),
    latency: (performance.now() - start) / 1000,
    code,
    reason,
  };
}

function safeArgs(
  args: (req: unknown, ctx: Context) => unknown,
  req: unknown,
  ctx: Context,
): unknown {
  try {
    return args(req, ctx);
  } catch {
    // A failing redaction hook must not fail the call it logs.
    return "[args unavailable]";
  }
}
