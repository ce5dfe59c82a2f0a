import { create } from "@bufbuild/protobuf";
import type { DescMessage, Message } from "@bufbuild/protobuf";
import http from "node:http";
import type { IncomingMessage, ServerResponse } from "node:http";
import net from "node:net";
import { CancellableContext, createContextKey } from "../../context.js";
import type { Context, ContextInit } from "../../context.js";
import { KratosError } from "../../errors/error.js";
import { fromError } from "../../errors/from-error.js";
import { endpointOf, listen } from "../../internal/listen.js";
import { OperationMatcher } from "../../internal/matcher.js";
import { untilClosed } from "../../internal/until-closed.js";
import { chain } from "../../middleware/middleware.js";
import type { Handler, Middleware } from "../../middleware/middleware.js";
import { setRequestSchema, setServerTransport } from "../transport.js";
import type { CodecName } from "../../encoding/media-type.js";
import { responseCodec } from "../../encoding/negotiate.js";
import type { Negotiated } from "../../encoding/negotiate.js";
import { compileRoute } from "../../http-rule/compile.js";
import type { CompiledRoute } from "../../http-rule/compile.js";
import { parsePathTemplate } from "../../http-rule/path-template.js";
import type { HttpRoute } from "./route.js";
import { missError, Router } from "./router.js";
import { HttpTransporter, httpTransport } from "./transporter.js";
import { bindUrl, decodeRequestBody } from "./request.js";
import { writeError, writeReply } from "./reply.js";
import { abortOnClose, invoke } from "./call.js";
import type { RpcCall } from "./call.js";
import { defaults } from "./server-api.js";
import type {
  Filter,
  HttpServer,
  HttpServerOptions,
  RawHandler,
  RawHandlerOptions,
} from "./server-api.js";

export type { HttpServer } from "./server-api.js";
import { Http1Connections } from "../http1/connections.js";
import { createNodeServer } from "./node-server.js";
import { corsPolicy } from "../cors.js";
import type { CorsPolicy } from "../cors.js";
import { applyCors, httpCorsDefaults } from "./cors.js";

/** Creates an HTTP server; see {@link HttpServerOptions} for the defaults. */
export function createHttpServer(options: HttpServerOptions = {}): HttpServer {
  return new KratosHttpServer(options);
}

type Entry =
  | {
      kind: "rpc";
      route: CompiledRoute<HttpRoute>;
      operation: string;
      handler?: Handler;
      version?: number;
    }
  | {
      kind: "raw";
      operation: string;
      pathTemplate: string;
      raw: RawHandler;
      middleware: boolean;
      handler?: Handler;
      version?: number;
    };

// Set on the context when the request could not be decoded: the innermost handler rethrows it,
// so the error passes through the whole middleware chain (logged, counted, traced).
const decodeErrorKey = createContextKey<KratosError | undefined>(undefined, "http decode error");

const allMethods = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"];

class KratosHttpServer implements HttpServer {
  readonly kind = "http" as const;
  readonly httpServer: http.Server;
  readonly #options: HttpServerOptions;
  readonly #connections: Http1Connections;
  readonly #router = new Router<Entry>();
  readonly #matcher = new OperationMatcher();
  readonly #prefix: string;
  readonly #maxBody: number;
  readonly #filters: Filter[];
  readonly #cors: CorsPolicy | undefined;
  readonly #timeoutMs: number | undefined;
  #version = 0;
  #endpoint: URL | undefined;
  #endpointText = "";
  // The same for every call of a start: the app's values, the timeout, the disconnect hook.
  #contextInit: ContextInit = { onSignal: abortOnClose };

  constructor(options: HttpServerOptions) {
    this.#options = options;
    this.#prefix = (options.prefix ?? "").replace(/\/+$/, "");
    this.#maxBody = options.maxBodyBytes ?? defaults.maxBodyBytes;
    this.#filters = options.filters ?? [];
    this.#cors =
      options.cors === undefined ? undefined : corsPolicy(options.cors, httpCorsDefaults);
    const timeout = options.timeout ?? defaults.timeout;
    this.#timeoutMs = timeout > 0 ? timeout : undefined;
    if (options.middleware !== undefined) this.#matcher.use("/*", ...options.middleware);
    this.httpServer = createNodeServer(options, (req, res) => {
      this.#onRequest(req, res);
    });
    this.#connections = new Http1Connections(this.httpServer);
  }

  use(selector: string, ...middleware: Middleware[]): void {
    this.#matcher.use(selector, ...middleware);
    this.#version++;
  }

  route<I extends DescMessage, O extends DescMessage>(route: HttpRoute<I, O>): void {
    const compiled = compileRoute(route);
    const template = parsePathTemplate(this.#prefix + route.path);
    this.#router.add(route.method.toUpperCase(), template, {
      kind: "rpc",
      route: compiled,
      operation: route.operation,
    });
  }

  handle(
    method: string | readonly string[],
    path: string,
    raw: RawHandler,
    options: RawHandlerOptions = {},
  ): void {
    const methods = typeof method === "string" ? (method === "*" ? allMethods : [method]) : method;
    const template = parsePathTemplate(this.#prefix + path);
    for (const m of methods) {
      this.#router.add(m.toUpperCase(), template, {
        kind: "raw",
        operation: options.operation ?? path,
        pathTemplate: path,
        raw,
        middleware: options.middleware ?? false,
      });
    }
  }

  async start(ctx?: Context): Promise<void> {
    if (this.httpServer.listening) throw new Error("http server already started");
    this.#contextInit = { values: ctx?.values, timeoutMs: this.#timeoutMs, onSignal: abortOnClose };
    const address = await listen(
      this.httpServer,
      this.#options.addr ?? defaults.addr,
      "http server",
    );
    this.#connections.open();
    this.#endpoint = endpointOf(this.#options.tls === undefined ? "http" : "https", address);
    this.#endpointText = this.#endpoint.href.replace(/\/$/, "");
  }

  async stop(signal?: AbortSignal): Promise<void> {
    if (!this.httpServer.listening) return;
    const closed = new Promise<void>((resolve) => {
      // net.Server's close, not http.Server's: that one also closes the idle keep-alive
      // connections at once, resetting a request a client may be sending on one right now.
      // Http1Connections closes them between requests instead.
      net.Server.prototype.close.call(this.httpServer, () => {
        resolve();
      });
    });
    this.#connections.drain();
    try {
      // Closing the connections aborts the calls that listen to their signal.
      await untilClosed(closed, signal, () => {
        this.#connections.destroyAll();
      });
    } finally {
      // Stops node's timeout checks (http.Server's close does that); no connection is left.
      this.httpServer.close();
    }
  }

  endpoint(): URL {
    if (this.#endpoint === undefined) throw new Error("http server not started");
    return new URL(this.#endpoint.href);
  }

  #onRequest(req: IncomingMessage, res: ServerResponse): void {
    if (this.#cors !== undefined) {
      const cors = applyCors(this.#cors, req, res);
      if (cors !== "serve") {
        if (cors !== "answered") this.#fail(req, res, cors, undefined);
        return;
      }
    }
    if (this.#filters.length === 0) {
      this.#dispatch(req, res);
      return;
    }
    let i = 0;
    const next = (): void => {
      const filter = this.#filters[i++];
      if (filter === undefined) this.#dispatch(req, res);
      else filter(req, res, next);
    };
    try {
      next();
    } catch (err) {
      this.#fail(req, res, fromError(err), undefined);
    }
  }

  #dispatch(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? "/";
    const q = url.indexOf("?");
    const path = q < 0 ? url : url.slice(0, q);
    const search = q < 0 ? "" : url.slice(q + 1);
    const method = req.method ?? "GET";
    const match = this.#router.find(method, path);
    switch (match.kind) {
      case "found": {
        const entry = match.store;
        if (entry.kind === "raw" && !entry.middleware) {
          this.#serveRaw(entry, req, res);
          return;
        }
        this.#serve(entry, req, res, match.vars, search);
        return;
      }
      default:
        if (match.kind === "method-not-allowed") res.setHeader("allow", match.allowed.join(", "));
        this.#fail(req, res, missError(match, method, path), undefined);
    }
  }

  #serveRaw(entry: Entry & { kind: "raw" }, req: IncomingMessage, res: ServerResponse): void {
    const transport = new HttpTransporter(
      this.#endpointText,
      entry.operation,
      entry.pathTemplate,
      req,
      res,
    );
    const ctx = this.#startCall(transport);
    const fail = (err: unknown) => {
      this.#fail(req, res, fromError(err), transport);
    };
    try {
      const result = entry.raw(req, res, ctx);
      if (result instanceof Promise)
        result.catch(fail).finally(() => {
          ctx.dispose();
        });
      else ctx.dispose();
    } catch (err) {
      ctx.dispose();
      fail(err);
    }
  }

  /** The context of one call; it aborts when the client goes away (see {@link abortOnClose}). */
  #startCall(transport: HttpTransporter): CancellableContext {
    const ctx = new CancellableContext(this.#contextInit);
    setServerTransport(ctx, transport);
    return ctx;
  }

  /** The route's handler wrapped in the middleware selected for its operation (cached). */
  #handlerFor(entry: Entry): Handler {
    if (entry.handler !== undefined && entry.version === this.#version) return entry.handler;
    const inner: Handler =
      entry.kind === "rpc"
        ? (ctx, req) => {
            const failure = ctx.values.get(decodeErrorKey);
            if (failure !== undefined) return Promise.reject(failure);
            return entry.route.route.handler(req as Message, ctx);
          }
        : async (ctx) => {
            // The call's node request and response travel on its transport.
            const t = httpTransport(ctx);
            if (t !== undefined) await entry.raw(t.request, t.response, ctx);
            return undefined;
          };
    entry.handler = chain(...this.#matcher.match(entry.operation))(inner);
    entry.version = this.#version;
    return entry.handler;
  }

  /** Serves a protobuf route, or a plain handler that runs the middleware chain. */
  #serve(
    entry: Entry,
    req: IncomingMessage,
    res: ServerResponse,
    vars: [string, string][],
    search: string,
  ): void {
    const pathTemplate = entry.kind === "rpc" ? entry.route.route.path : entry.pathTemplate;
    const transport = new HttpTransporter(
      this.#endpointText,
      entry.operation,
      pathTemplate,
      req,
      res,
    );
    const ctx = this.#startCall(transport);
    let handler: Handler;
    try {
      handler = this.#handlerFor(entry);
    } catch (err) {
      this.#fail(req, res, fromError(err), transport);
      ctx.dispose();
      return;
    }
    if (entry.kind === "raw") {
      invoke(handler, ctx, undefined).then(
        () => {
          ctx.dispose();
        },
        (err: unknown) => {
          this.#fail(req, res, fromError(err), transport);
          ctx.dispose();
        },
      );
      return;
    }
    const route = entry.route;
    setRequestSchema(ctx, route.route.input);
    const call: RpcCall = { route, handler, ctx, transport, req, res, vars, search };
    if (route.wholeBody || route.bodyField !== undefined) {
      decodeRequestBody(route, req, this.#maxBody).then(
        (decoded) => {
          this.#call(call, decoded.message, decoded.codec, undefined);
        },
        (err: unknown) => {
          this.#call(call, undefined, "json", err);
        },
      );
      return;
    }
    // No body: decoding is synchronous, no promise on the common GET path.
    this.#call(call, create(route.route.input), "json", undefined);
  }

  /**
   * Binds the URL into the decoded input and runs the handler chain. A decode failure runs the
   * chain too: middleware sees no half-bound request, only the error from next().
   */
  #call(call: RpcCall, input: Message | undefined, codecName: CodecName, failure: unknown): void {
    const { route, ctx, transport, req, res } = call;
    let codec: Negotiated | undefined;
    if (input !== undefined) {
      try {
        bindUrl(route, input, call.vars, call.search);
        codec = responseCodec(req.headers.accept);
      } catch (err) {
        input = undefined;
        failure = err;
      }
    }
    if (input === undefined) ctx.values.set(decodeErrorKey, fromError(failure));
    invoke(call.handler, ctx, input).then(
      (reply) => {
        try {
          writeReply(
            route,
            transport,
            reply,
            codec ?? responseCodec(req.headers.accept),
            this.#options.responseEncoder,
          );
        } catch (err) {
          this.#fail(req, res, fromError(err), transport);
        }
        ctx.dispose();
      },
      (err: unknown) => {
        this.#fail(req, res, fromError(err), transport);
        ctx.dispose();
      },
    );
  }

  #fail(
    req: IncomingMessage,
    res: ServerResponse,
    err: KratosError,
    transport: HttpTransporter | undefined,
  ): void {
    writeError(req, res, err, transport, this.#options.errorEncoder);
  }
}
