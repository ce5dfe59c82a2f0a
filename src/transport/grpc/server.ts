import type { DescService } from "@bufbuild/protobuf";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { IncomingHttpHeaders as Http2Headers, ServerHttp2Stream } from "node:http2";
import type { Context, ContextValues } from "../../context.js";
import { KratosError } from "../../errors/error.js";
import { reasons } from "../../errors/reasons.js";
import { endpointOf } from "../../internal/listen.js";
import { OperationMatcher } from "../../internal/matcher.js";
import { chain } from "../../middleware/middleware.js";
import type { Handler, Middleware } from "../../middleware/middleware.js";
import { corsPolicy } from "../cors.js";
import type { CorsOptions, CorsPolicy } from "../cors.js";
import type { Server } from "../transport.js";
import { runCall } from "./call.js";
import { applyCors, grpcCorsDefaults } from "./cors.js";
import type { CallEnvironment, RegisteredMethod } from "./call.js";
import { Http1Exchange, Http2Exchange } from "./exchange.js";
import type { Exchange } from "./exchange.js";
import { Health, healthService, HealthRegistry } from "./health.js";
import type { ServingStatus } from "./health.js";
import { GrpcPort } from "./port.js";
import type { PortLimits } from "./port.js";
import type { GrpcTlsOptions } from "./tls.js";
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
  /**
   * Deadline of each call in ms (a shorter `grpc-timeout` wins); 0: none. Default 1 000 for
   * unary calls and none for streaming calls, as Go Kratos (whose timeout is a unary
   * interceptor's): a long-lived stream is not cut by a default. A value set here applies to
   * every call, streams included, so that a stream's life is bounded when you ask for it.
   */
  timeout?: number;
  /** Middleware for every operation (the same as `use("/*", ...)`). */
  middleware?: Middleware[];
  /** Largest accepted request message in bytes (after decompression). Default 4 MiB. */
  maxMessageBytes?: number;
  /** Register grpc.health.v1.Health. Default true. */
  health?: boolean;
  /** Register server reflection v1 and v1alpha. Default true. */
  reflection?: boolean;
  /**
   * Serve TLS on the port: ALPN `h2` gets gRPC, Connect and gRPC-Web over HTTP/2, `http/1.1` (or
   * no ALPN) Connect and gRPC-Web over HTTP/1.1; plaintext is refused (HTTP/1.1 with a 400
   * TLS_REQUIRED, h2c with GOAWAY INADEQUATE_SECURITY). The endpoint becomes `grpcs://` (as
   * Go Kratos registers it). For mTLS add the client CA and ask for certificates:
   * `{ key, cert, ca: clientCa, requestCert: true }`; a client without one signed by `ca` fails
   * its handshake. See {@link GrpcTlsOptions}. Default: plaintext (h2c and HTTP/1.1).
   */
  tls?: GrpcTlsOptions;
  /**
   * Time a new connection has to show its protocol and, on HTTP/2, to send its preface and
   * SETTINGS, in ms; with `tls`, its TLS handshake gets this time too. Default 10 000.
   */
  handshakeTimeout?: number;
  /** HTTP/1.1 (Connect, gRPC-Web): time to receive a request's headers, in ms. Default 10 000. */
  headersTimeout?: number;
  /**
   * Time to receive a whole request, in ms: an HTTP/1.1 request, or the request message of a
   * unary or server-streaming call on HTTP/2 (streaming requests are bounded by the deadline).
   * Default 30 000.
   */
  requestTimeout?: number;
  /** HTTP/1.1: idle time before a keep-alive connection closes, in ms. Default 5 000. */
  keepAliveTimeout?: number;
  /**
   * HTTP/2: a connection with no frame either way for this long is sent away (GOAWAY), and
   * closed a second later if its streams have not finished by then (they made no progress for
   * the whole idle time either), in ms. Default 300 000.
   */
  idleTimeout?: number;
  /** Most connections open at once; more are closed as they arrive. Default 10 000; 0: no cap. */
  maxConnections?: number;
  /**
   * Lets pages on other origins call over Connect and gRPC-Web (off by default). Preflights are
   * answered before the protocol is detected; see {@link CorsOptions} and `grpcCorsDefaults`.
   */
  cors?: CorsOptions;
}

/**
 * The gRPC server: gRPC over HTTP/2, and Connect and gRPC-Web over HTTP/1.1 and HTTP/2, on one
 * port, in plaintext (h2c) or TLS.
 */
export interface GrpcServer extends Server {
  readonly kind: "grpc";
  /** Serves a service (from protoc-gen-es) with an implementation; missing methods are UNIMPLEMENTED. */
  register<S extends DescService>(service: S, impl: ServiceImpl<S>): void;
  /** Adds middleware for operations matching `selector` (`/*`, `/pkg.Svc/*`, an operation). */
  use(selector: string, ...middleware: Middleware[]): void;
  /** Sets the health status of a service ("" = the whole server). */
  setServingStatus(service: string, status: ServingStatus): void;
}

const defaults = {
  addr: "0.0.0.0:0",
  // Go Kratos's server default; see GrpcServerOptions.timeout for streams.
  timeout: 1_000,
  maxMessageBytes: 4 * 1024 * 1024,
  handshakeTimeout: 10_000,
  headersTimeout: 10_000,
  requestTimeout: 30_000,
  keepAliveTimeout: 5_000,
  idleTimeout: 300_000,
  maxConnections: 10_000,
};

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
  readonly streamTimeoutMs: number | undefined;
  readonly requestTimeoutMs: number;
  readonly #options: GrpcServerOptions;
  readonly #methods = new Map<string, Entry>();
  readonly #matcher = new OperationMatcher();
  readonly #health = new HealthRegistry();
  readonly #reflection = new ReflectionIndex();
  readonly #port: GrpcPort;
  readonly #cors: CorsPolicy | undefined;
  #version = 0;
  #endpoint: URL | undefined;
  #endpointText = "";
  #baseValues: ContextValues | undefined;
  #stopping = false;

  constructor(options: GrpcServerOptions) {
    this.#cors =
      options.cors === undefined ? undefined : corsPolicy(options.cors, grpcCorsDefaults);
    this.#options = options;
    this.maxMessageBytes = options.maxMessageBytes ?? defaults.maxMessageBytes;
    const timeout = options.timeout ?? defaults.timeout;
    this.timeoutMs = timeout > 0 ? timeout : undefined;
    // The default bounds unary calls only; an explicit timeout bounds streams too.
    this.streamTimeoutMs =
      options.timeout !== undefined && options.timeout > 0 ? options.timeout : undefined;
    if (options.middleware !== undefined) this.#matcher.use("/*", ...options.middleware);
    const limits: PortLimits = {
      handshakeTimeout: options.handshakeTimeout ?? defaults.handshakeTimeout,
      headersTimeout: options.headersTimeout ?? defaults.headersTimeout,
      requestTimeout: options.requestTimeout ?? defaults.requestTimeout,
      keepAliveTimeout: options.keepAliveTimeout ?? defaults.keepAliveTimeout,
      idleTimeout: options.idleTimeout ?? defaults.idleTimeout,
      maxConnections: options.maxConnections ?? defaults.maxConnections,
    };
    this.requestTimeoutMs = limits.requestTimeout;
    this.#port = new GrpcPort(
      limits,
      {
        stream: (stream: ServerHttp2Stream, headers: Http2Headers) => {
          this.#dispatch(new Http2Exchange(stream, headers));
        },
        request: (req: IncomingMessage, res: ServerResponse) => {
          this.#dispatch(new Http1Exchange(req, res));
        },
      },
      options.tls,
    );
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
    if (this.#port.listening) throw new Error("grpc server already started");
    this.#baseValues = ctx?.values;
    const address = await this.#port.listen(this.#options.addr ?? defaults.addr);
    this.#endpoint = endpointOf(this.#port.secure ? "grpcs" : "grpc", address);
    this.#endpointText = this.#endpoint.href.replace(/\/$/, "");
    this.#stopping = false;
    this.#health.set("", "SERVING");
  }

  async stop(signal?: AbortSignal): Promise<void> {
    if (!this.#port.listening) return;
    this.#stopping = true;
    // NOT_SERVING first, so load balancers stop sending before connections go.
    this.#health.shutdown();
    await this.#port.stop(signal);
  }

  endpoint(): URL {
    if (this.#endpoint === undefined) throw new Error("grpc server not started");
    return new URL(this.#endpoint.href);
  }

  #dispatch(exchange: Exchange): void {
    if (this.#cors !== undefined && applyCors(this.#cors, exchange) === "answered") return;
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
      return;
    }
    if (method.desc.methodKind !== "unary" && !session.streaming) {
      // As connect-go: 415, the method takes none of this protocol's content types.
      session.fail(
        exchange,
        new KratosError(
          415,
          reasons.codec,
          `${method.operation} is a streaming method; use a streaming protocol`,
        ),
        {},
        undefined,
      );
      return;
    }
    void runCall(exchange, session, method, this);
  }
}
