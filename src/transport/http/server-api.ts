// The HTTP server's public face: its interface, its options with their defaults, and the hooks
// they take (filters, raw handlers, reply and error encoders).
import type { DescMessage, Message } from "@bufbuild/protobuf";
import type http from "node:http";
import type { IncomingMessage, ServerResponse } from "node:http";
import type https from "node:https";
import type { Context } from "../../context.js";
import type { KratosError } from "../../errors/error.js";
import type { Middleware } from "../../middleware/middleware.js";
import type { CorsOptions } from "../cors.js";
import type { Server } from "../transport.js";
import type { Negotiated } from "../../encoding/negotiate.js";
import type { HttpRoute } from "./route.js";

/** A plain node handler wrapper that runs before routing (Kratos `http.Filter`). */
export type Filter = (req: IncomingMessage, res: ServerResponse, next: () => void) => void;

/** A hand-written handler mounted beside the generated routes (metrics, uploads, webhooks). */
export type RawHandler = (
  req: IncomingMessage,
  res: ServerResponse,
  ctx: Context,
) => void | Promise<void>;

/** Options of {@link HttpServer.handle}. */
export interface RawHandlerOptions {
  /** Run the server's middleware chain around the handler. Default: false. */
  middleware?: boolean;
  /** The operation middleware sees. Default: the path. */
  operation?: string;
}

/** Options of {@link createHttpServer}; every field is optional. */
export interface HttpServerOptions {
  /** Where to listen: `host:port`. Default `0.0.0.0:0` (all interfaces, a free port). */
  addr?: string;
  /**
   * Deadline of each call in milliseconds, visible to handlers as `ctx.signal` / `ctx.deadline`;
   * 0: none. Default 1 000, as Go Kratos. It applies to plain handlers too (as Kratos's filter
   * does): one that streams a long reply should not stop on `ctx.signal` alone, or set 0.
   */
  timeout?: number;
  /** Middleware for every operation (the same as `use("/*", ...)`). */
  middleware?: Middleware[];
  /** Wrappers run before routing, outermost first. */
  filters?: Filter[];
  /** A path prefix for every route: `/api`. Default none. */
  prefix?: string;
  /** Serve HTTPS with these options (key, cert, ...). Default: plain HTTP. */
  tls?: https.ServerOptions;
  /** Largest accepted request body in bytes; larger ones get 413. Default 4 MiB. */
  maxBodyBytes?: number;
  /** Time allowed to receive the request headers, in ms. Default 10 000. */
  headersTimeout?: number;
  /** Time allowed to receive the whole request, in ms. Default 30 000. */
  requestTimeout?: number;
  /** Idle time before a keep-alive connection closes, in ms. Default 5 000. */
  keepAliveTimeout?: number;
  /** Most connections open at once; more are closed as they arrive. Default 10 000; 0: no cap. */
  maxConnections?: number;
  /**
   * Lets pages on other origins call the server (off by default). Preflights are answered before
   * routing and filters; see {@link CorsOptions} and `httpCorsDefaults` for what is allowed.
   */
  cors?: CorsOptions;
  /**
   * Writes the reply of a protobuf route (Go Kratos `http.ResponseEncoder`), for example to wrap
   * it in a `{code, data, message}` envelope; the reply headers a handler set are on `res`
   * already. Default: the message alone, in the codec Accept chose.
   */
  responseEncoder?: (reply: HttpReply, req: IncomingMessage, res: ServerResponse) => void;
  /**
   * Writes error responses (Go Kratos `http.ErrorEncoder`); default: the Kratos JSON body (or
   * binary errors.Status).
   */
  errorEncoder?: (err: KratosError, req: IncomingMessage, res: ServerResponse) => void;
}

/** The defaults of {@link HttpServerOptions}. */
export const defaults = {
  addr: "0.0.0.0:0",
  timeout: 1_000,
  maxBodyBytes: 4 * 1024 * 1024,
  headersTimeout: 10_000,
  requestTimeout: 30_000,
  keepAliveTimeout: 5_000,
  maxConnections: 10_000,
};

/** What a {@link HttpServerOptions.responseEncoder} writes. */
export interface HttpReply {
  /** The route's output message type. */
  readonly schema: DescMessage;
  /** The handler's reply, as a message of `schema`. */
  readonly message: Message;
  /** The status the handler chose (`setResponseStatus`); 200 by default. */
  readonly status: number;
  /** The reply codec the Accept header chose, for encoders that keep the negotiation. */
  readonly codec: Negotiated;
}

/** The HTTP server: generated routes, raw handlers, one middleware chain. */
export interface HttpServer extends Server {
  readonly kind: "http";
  /** Adds middleware for operations matching `selector` (`/*`, `/pkg.Svc/*`, an operation). */
  use(selector: string, ...middleware: Middleware[]): void;
  /** Adds a protobuf route; throws when the binding cannot be served. */
  route<I extends DescMessage, O extends DescMessage>(route: HttpRoute<I, O>): void;
  /** Mounts a plain handler on a path template (`/metrics`, `/files/{path=**}`). */
  handle(
    method: string | readonly string[],
    path: string,
    handler: RawHandler,
    options?: RawHandlerOptions,
  ): void;
  /** The node server underneath (created at once, listening after `start`). */
  readonly httpServer: http.Server;
}
