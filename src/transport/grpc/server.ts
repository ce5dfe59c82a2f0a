import type { DescService } from "@bufbuild/protobuf";
import http from "node:http";
import type { IncomingMessage, ServerResponse } from "node:http";
import http2 from "node:http2";
import type {
  Http2Session,
  IncomingHttpHeaders as Http2Headers,
  ServerHttp2Stream,
} from "node:http2";
import net from "node:net";
import type { Socket } from "node:net";
import type { Context, ContextValues } from "../../context.js";
import { KratosError } from "../../errors/error.js";
import { endpointOf, listen } from "../../internal/listen.js";
import { OperationMatcher } from "../../internal/matcher.js";
import { chain } from "../../middleware/middleware.js";
import type { Handler, Middleware } from "../../middleware/middleware.js";
import type { Server } from "../transport.js";
import { runCall } from "./call.js";
import type { CallEnvironment, RegisteredMethod } from "./call.js";
import { Http1Exchange, Http2Exchange } from "./exchange.js";
import type { Exchange } from "./exchange.js";
import { Health, healthService, HealthRegistry } from "./health.js";
import type { ServingStatus } from "./health.js";
import { detectProtocol, UnsupportedRequest } from "./protocols.js";
import {
  ReflectionIndex,
  reflectionAlphaService,
  reflectionService,
  ServerReflection,
  ServerReflectionAlpha,
} from "./reflection.js";
import type { ServiceImpl } from "./service.js";

/** Options of {@link createGrpcServer}; every field is optional. */
export interface GrpcServerOptions {
  /** Where to listen: `host:port`. Default `0.0.0.0:0`. */
  addr?: string;
  /** Deadline of each call in ms (a shorter `grpc-timeout` wins). Default 0: none. */
  timeout?: number;
  /** Middleware for every operation (the same as `use("/*", ...)`). */
  middleware?: Middleware[];
  /** Largest accepted request message in bytes (after decompression). Default 4 MiB. */
  maxMessageBytes?: number;
  /** Register grpc.health.v1.Health. Default true. */
  health?: boolean;
  /** Register server reflection v1 and v1alpha. Default true. */
  reflection?: boolean;
}

/** The gRPC server: gRPC over h2c, and Connect and gRPC-Web over HTTP/1.1 and h2c, on one port. */
export interface GrpcServer extends Server {
  readonly kind: "grpc";
  /** Serves a service (from protoc-gen-es) with an implementation; missing methods are UNIMPLEMENTED. */
  register<S extends DescService>(service: S, impl: ServiceImpl<S>): void;
  /** Adds middleware for operations matching `selector` (`/*`, `/pkg.Svc/*`, an operation). */
  use(selector: string, ...middleware: Middleware[]): void;
  /** Sets the health status of a service ("" = the whole server). */
  setServingStatus(service: string, status: ServingStatus): void;
}

const defaults = { addr: "0.0.0.0:0", maxMessageBytes: 4 * 1024 * 1024 };

// Every HTTP/2 connection starts with this preface; HTTP/1.1 never does.
const preface = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");

/** Creates a gRPC server; see {@link GrpcServerOptions} for the defaults. */
export function createGrpcServer(options: GrpcServerOptions = {}): GrpcServer {
  return new KratosGrpcServer(options);
}

interface Entry extends RegisteredMethod {
  handler?: Handler;
  version?: number;
}

class KratosGrpcServer implements GrpcServer, CallEnvironment {
  readonly kind = "grpc" as const;
  readonly maxMessageBytes: number;
  readonly timeoutMs: number | undefined;
  readonly #options: GrpcServerOptions;
  readonly #methods = new Map<string, Entry>();
  readonly #matcher = new OperationMatcher();
  readonly #health = new HealthRegistry();
  readonly #reflection = new ReflectionIndex();
  readonly #sessions = new Set<Http2Session>();
  readonly #sockets = new Set<Socket>();
  // HTTP/1.1 connections and their calls in flight. Node's http.Server only tracks connections
  // it accepted itself, so idle keep-alive connections are closed here on stop.
  readonly #h1Active = new Map<Socket, number>();
  readonly #net: net.Server;
  readonly #h2: http2.Http2Server;
  readonly #h1: http.Server;
  #version = 0;
  #endpoint: URL | undefined;
  #endpointText = "";
  #baseValues: ContextValues | undefined;
  #stopping = false;

  constructor(options: GrpcServerOptions) {
    this.#options = options;
    this.maxMessageBytes = options.maxMessageBytes ?? defaults.maxMessageBytes;
    this.timeoutMs =
      options.timeout !== undefined && options.timeout > 0 ? options.timeout : undefined;
    if (options.middleware !== undefined) this.#matcher.use("/*", ...options.middleware);
    this.#h2 = http2.createServer({ settings: { maxConcurrentStreams: 1000 } });
    this.#h2.on("stream", (stream: ServerHttp2Stream, headers: Http2Headers) => {
      this.#dispatch(new Http2Exchange(stream, headers));
    });
    this.#h2.on("session", (session: Http2Session) => {
      this.#sessions.add(session);
      session.once("close", () => this.#sessions.delete(session));
      if (this.#stopping) session.close();
    });
    this.#h1 = http.createServer(
      { keepAliveTimeout: 5_000 },
      (req: IncomingMessage, res: ServerResponse) => {
        const socket = req.socket;
        this.#h1Active.set(socket, (this.#h1Active.get(socket) ?? 0) + 1);
        // `on`, not `once`: a response closes once, and `once` costs a wrapper per request.
        res.on("close", () => {
          const left = (this.#h1Active.get(socket) ?? 1) - 1;
          this.#h1Active.set(socket, left);
          if (left === 0 && this.#stopping) socket.end();
        });
        if (this.#stopping) res.setHeader("connection", "close");
        this.#dispatch(new Http1Exchange(req, res));
      },
    );
    this.#h1.on("connection", (socket: Socket) => {
      this.#h1Active.set(socket, 0);
      socket.once("close", () => this.#h1Active.delete(socket));
    });
    // noDelay as node's own HTTP servers do: small gRPC frames must not wait for Nagle.
    this.#net = net.createServer({ noDelay: true }, (socket) => {
      this.#accept(socket);
    });
    if (options.health !== false) this.register(Health, healthService(this.#health));
    if (options.reflection !== false) {
      this.register(ServerReflection, reflectionService(this.#reflection));
      this.register(ServerReflectionAlpha, reflectionAlphaService(this.#reflection));
    }
  }

  get endpointText(): string {
    return this.#endpointText;
  }

  get baseValues(): ContextValues | undefined {
    return this.#baseValues;
  }

  register<S extends DescService>(service: S, impl: ServiceImpl<S>): void {
    const methods = impl as Record<string, ((...args: never[]) => unknown) | undefined>;
    for (const method of service.methods) {
      const operation = `/${service.typeName}/${method.name}`;
      const fn = methods[method.localName];
      if (fn === undefined) continue;
      this.#methods.set(operation, { desc: method, operation, impl: fn.bind(impl) });
    }
    this.#reflection.add(service);
    this.#health.set(service.typeName, this.#stopping ? "NOT_SERVING" : "SERVING");
  }

  use(selector: string, ...middleware: Middleware[]): void {
    this.#matcher.use(selector, ...middleware);
    this.#version++;
  }

  setServingStatus(service: string, status: ServingStatus): void {
    this.#health.set(service, status);
  }

  handlerFor(method: RegisteredMethod, inner: (m: RegisteredMethod) => Handler): Handler {
    const entry = method as Entry;
    if (entry.handler !== undefined && entry.version === this.#version) return entry.handler;
    entry.handler = chain(...this.#matcher.match(method.operation))(inner(method));
    entry.version = this.#version;
    return entry.handler;
  }

  async start(ctx?: Context): Promise<void> {
    if (this.#net.listening) throw new Error("grpc server already started");
    this.#baseValues = ctx?.values;
    const address = await listen(this.#net, this.#options.addr ?? defaults.addr);
    this.#endpoint = endpointOf("grpc", address);
    this.#endpointText = this.#endpoint.href.replace(/\/$/, "");
    this.#stopping = false;
    this.#health.set("", "SERVING");
  }

  async stop(signal?: AbortSignal): Promise<void> {
    if (!this.#net.listening) return;
    this.#stopping = true;
    // NOT_SERVING first, so load balancers stop sending before connections go.
    this.#health.shutdown();
    const closed = new Promise<void>((resolve) => {
      this.#net.close(() => {
        resolve();
      });
    });
    for (const session of this.#sessions) session.close();
    for (const [socket, active] of this.#h1Active) if (active === 0) socket.end();
    // Destroying the connections closes every stream, which aborts the calls that listen.
    const force = () => {
      for (const session of this.#sessions) session.destroy();
      for (const socket of this.#sockets) socket.destroy();
    };
    if (signal?.aborted === true) force();
    signal?.addEventListener("abort", force, { once: true });
    try {
      await closed;
    } finally {
      signal?.removeEventListener("abort", force);
    }
  }

  endpoint(): URL {
    if (this.#endpoint === undefined) throw new Error("grpc server not started");
    return new URL(this.#endpoint.href);
  }

  /** Reads the first bytes of a connection and hands it to the HTTP/2 or the HTTP/1.1 server. */
  #accept(socket: Socket): void {
    this.#sockets.add(socket);
    socket.once("close", () => this.#sockets.delete(socket));
    socket.on("error", () => {
      socket.destroy();
    });
    const check = (): void => {
      const chunk = socket.read() as Buffer | null;
      if (chunk === null) {
        socket.once("readable", check);
        return;
      }
      const n = Math.min(chunk.length, preface.length);
      const maybeH2 = chunk.subarray(0, n).equals(preface.subarray(0, n));
      socket.unshift(chunk);
      if (maybeH2 && chunk.length < preface.length) {
        // Too few bytes to tell: put them back and look again when more arrive.
        socket.once("readable", check);
        return;
      }
      (maybeH2 ? this.#h2 : this.#h1).emit("connection", socket);
    };
    socket.once("readable", check);
  }

  #dispatch(exchange: Exchange): void {
    let session;
    try {
      session = detectProtocol(exchange);
    } catch (err) {
      const status = err instanceof UnsupportedRequest ? err.status : 415;
      const body = Buffer.from(err instanceof Error ? err.message : "unsupported request");
      exchange.head(status, { "content-type": "text/plain", "content-length": body.byteLength });
      exchange.end(body);
      return;
    }
    const method = this.#methods.get(exchange.path);
    if (method === undefined) {
      session.fail(
        exchange,
        new KratosError(501, "", `method ${exchange.path} is not implemented`),
        {},
        undefined,
      );
      // Unread request bytes are discarded with the stream.
      exchange.input.resume();
      return;
    }
    void runCall(exchange, session, method, this);
  }
}
