import { create, fromBinary, fromJson, fromJsonString } from "@bufbuild/protobuf";
import type {
  DescMessage,
  JsonValue,
  Message,
  MessageInitShape,
  MessageShape,
} from "@bufbuild/protobuf";
import http from "node:http";
import type { IncomingMessage, OutgoingHttpHeaders } from "node:http";
import https from "node:https";
import type { Socket } from "node:net";
import { CancellableContext } from "../../context.js";
import { codecOf } from "../../encoding/media-type.js";
import { encodeMessage, toMessage } from "../../encoding/message.js";
import { replyCodecs } from "../../encoding/negotiate.js";
import type { Negotiated } from "../../encoding/negotiate.js";
import { KratosError } from "../../errors/error.js";
import { fromError } from "../../errors/from-error.js";
import { fromHttpResponse } from "../../errors/http.js";
import { reasons } from "../../errors/reasons.js";
import { chain } from "../../middleware/middleware.js";
import type { Handler, Middleware } from "../../middleware/middleware.js";
import type { CallOptions } from "../call-options.js";
import { NodeHeader } from "../header.js";
import type { SelectorOptions } from "../../selector/default-selector.js";
import type { Node } from "../../selector/selector.js";
import { NodePicker } from "../node-picker.js";
import { markNotSent } from "../not-sent.js";
import { resolverFor } from "../resolver.js";
import type { Resolver } from "../resolver.js";
import { setClientTransport } from "../transport.js";
import type { Kind, Transporter } from "../transport.js";
import { buildBody, buildPathAndQuery } from "./request-builder.js";
import { compileRoute } from "../../http-rule/compile.js";
import type { CompiledRoute, RouteBinding } from "../../http-rule/compile.js";

/** A route as a client needs it: the binding without the handler. */
export type ClientRoute<
  I extends DescMessage = DescMessage,
  O extends DescMessage = DescMessage,
> = RouteBinding<I, O>;

/** Options of {@link createHttpClient}. */
export interface HttpClientOptions {
  /**
   * `http://host:port`, `https://host:port`, `direct:///h1:p1,h2:p2` (balanced) or
   * `discovery:///name` (with `resolver`).
   */
  endpoint: string;
  /** Deadline of each call in ms. Default 0: none (Go Kratos defaults to 2 s). */
  timeout?: number;
  /** Client middleware, outermost first. */
  middleware?: Middleware[];
  /**
   * Body encoding, sent as Content-Type and Accept: `json` (default), `protojson` (the same
   * bytes as `application/protojson`, what Go Kratos v3 servers and clients speak) or `proto`.
   */
  codec?: "json" | "protojson" | "proto";
  /** Headers sent with every call. */
  headers?: Record<string, string>;
  /** Resolves `discovery:///` endpoints. */
  resolver?: Resolver;
  /**
   * How calls are spread over the nodes: the balancer (`p2c`, the default, `wrr` or `random`)
   * and node filters (by version, metadata or your own).
   */
  selector?: SelectorOptions;
  /** TLS options for https endpoints (ca, cert, key, ...). */
  tls?: https.AgentOptions;
  /** Largest accepted response body in bytes. Default 4 MiB. */
  maxBodyBytes?: number;
}

/** Calls HTTP routes; the generated `create<Svc>HTTPClient` wraps one. */
export interface HttpClient {
  invoke<I extends DescMessage, O extends DescMessage>(
    route: ClientRoute<I, O>,
    req: MessageInitShape<I>,
    options?: CallOptions,
  ): Promise<MessageShape<O>>;
  /** Closes pooled connections. */
  close(): void;
}

/** Creates an HTTP client; see {@link HttpClientOptions}. */
export function createHttpClient(options: HttpClientOptions): HttpClient {
  return new KratosHttpClient(options);
}

/** The client transport of an HTTP call. */
class HttpClientTransporter implements Transporter {
  readonly kind: Kind = "http";
  readonly requestHeader = new NodeHeader({});
  replyHeader = new NodeHeader({});
  constructor(
    public endpoint: string,
    readonly operation: string,
    readonly pathTemplate: string,
  ) {}
}

class KratosHttpClient implements HttpClient {
  readonly #options: HttpClientOptions;
  readonly #picker: NodePicker;
  readonly #codec: Negotiated;
  // One keep-alive agent per node (origin), so the connections of a node that left the
  // resolver's list can be closed without touching the others.
  readonly #agents = new Map<string, http.Agent>();
  readonly #middleware: Middleware;
  readonly #routes = new WeakMap<object, CompiledRoute>();

  constructor(options: HttpClientOptions) {
    this.#options = options;
    let resolver: Resolver;
    try {
      resolver = resolverFor(options.endpoint, "http", ["http", "https"], options.resolver);
    } catch (err) {
      throw new Error(`http client: ${err instanceof Error ? err.message : String(err)}`, {
        cause: err,
      });
    }
    this.#codec = replyCodecs[options.codec ?? "json"];
    this.#middleware = chain(...(options.middleware ?? []));
    this.#picker = new NodePicker(resolver, options.selector, (nodes) => {
      this.#prune(nodes);
    });
  }

  async invoke<I extends DescMessage, O extends DescMessage>(
    route: ClientRoute<I, O>,
    req: MessageInitShape<I>,
    options: CallOptions = {},
  ): Promise<MessageShape<O>> {
    const compiled = this.#compiled(route);
    const timeout = options.timeoutMs ?? this.#options.timeout ?? 0;
    const ctx = new CancellableContext({
      parent: options.context,
      timeoutMs: timeout > 0 ? timeout : undefined,
      signal: options.signal,
    });
    const transport = new HttpClientTransporter("", route.operation, route.path);
    for (const [k, v] of Object.entries({ ...this.#options.headers, ...options.headers })) {
      transport.requestHeader.set(k, v);
    }
    setClientTransport(ctx, transport);
    // The innermost handler; a request that never reached its node moves to another one.
    const send: Handler = (c, message) =>
      this.#picker.call(c, (node) => {
        transport.endpoint = node.url.origin;
        return this.#exchange(compiled, node.url, message as Message, transport, c.signal);
      });
    try {
      const reply = await this.#middleware(send)(ctx, create(route.input, req));
      return reply as MessageShape<O>;
    } catch (err) {
      throw clientError(err, ctx);
    } finally {
      ctx.dispose();
    }
  }

  close(): void {
    for (const agent of this.#agents.values()) agent.destroy();
    this.#agents.clear();
    this.#picker.close();
  }

  #compiled(route: ClientRoute): CompiledRoute {
    let compiled = this.#routes.get(route);
    if (compiled === undefined) {
      compiled = compileRoute(route);
      this.#routes.set(route, compiled);
    }
    return compiled;
  }

  /**
   * Closes the connections of nodes that left: idle ones now, busy ones as soon as their
   * response is read (the agent's `free` event), so no call under way is cut short.
   */
  #prune(nodes: readonly Node[]): void {
    const live = new Set(nodes.map((n) => n.url.origin));
    for (const [origin, agent] of this.#agents) {
      if (live.has(origin)) continue;
      this.#agents.delete(origin);
      for (const sockets of Object.values(agent.freeSockets)) {
        for (const socket of sockets ?? []) socket.destroy();
      }
      // Runs after the agent's own listener has pooled the socket.
      agent.on("free", (socket: Socket) => {
        socket.destroy();
      });
    }
  }

  #agentFor(node: URL): http.Agent {
    let agent = this.#agents.get(node.origin);
    if (agent === undefined) {
      agent =
        node.protocol === "https:"
          ? new https.Agent({ keepAlive: true, ...this.#options.tls })
          : new http.Agent({ keepAlive: true });
      this.#agents.set(node.origin, agent);
    }
    return agent;
  }

  #exchange(
    route: CompiledRoute,
    node: URL,
    message: Message,
    transport: HttpClientTransporter,
    signal: AbortSignal,
  ): Promise<Message> {
    const pathAndQuery = buildPathAndQuery(route, message);
    const codec = this.#codec;
    const body = buildBody(route, message, (desc, m) =>
      encodeMessage(desc, m, codec.name, { emitImplicit: true }),
    );
    const headers: OutgoingHttpHeaders = { accept: codec.contentType };
    for (const key of transport.requestHeader.keys())
      headers[key] = transport.requestHeader.values(key);
    if (body !== undefined) {
      headers["content-type"] = body.contentType ?? codec.contentType;
      headers["content-length"] =
        typeof body.body === "string" ? Buffer.byteLength(body.body) : body.body.byteLength;
    }
    const secure = node.protocol === "https:";
    const limit = this.#options.maxBodyBytes ?? 4 * 1024 * 1024;
    return new Promise<Message>((resolve, reject) => {
      const request = (secure ? https : http).request(
        {
          protocol: node.protocol,
          hostname: node.hostname,
          port: node.port,
          method: route.route.method,
          path: pathAndQuery,
          headers,
          agent: this.#agentFor(node),
          signal,
        },
        (res) => {
          transport.replyHeader = new NodeHeader(res.headers);
          readAll(res, limit).then((data) => {
            try {
              resolve(decodeReply(route, res, data, codec));
            } catch (err) {
              reject(err instanceof Error ? err : new Error(String(err)));
            }
          }, reject);
        },
      );
      request.once("error", (err: NodeJS.ErrnoException) => {
        // A keep-alive socket the server closed while idle (as it does when it stops) resets
        // before the server reads a byte; Node flags the socket as reused. Only idempotent
        // methods move on: a reset could also mean the server died mid-request.
        const reset = err.code === "ECONNRESET" && request.reusedSocket;
        reject(reset && idempotent.has(route.route.method) ? markNotSent(err) : err);
      });
      request.end(body?.body);
    });
  }
}

function readAll(res: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        res.destroy();
        reject(
          new KratosError(502, reasons.payloadTooLarge, `response body larger than ${limit} bytes`),
        );
        return;
      }
      chunks.push(chunk);
    });
    res.once("end", () => {
      resolve(Buffer.concat(chunks, size));
    });
    res.once("error", reject);
  });
}

/** The reply message of a response, or the typed error it carries. */
function decodeReply(
  route: CompiledRoute,
  res: IncomingMessage,
  data: Buffer,
  codec: Negotiated,
): Message {
  const status = res.statusCode ?? 0;
  const contentType = res.headers["content-type"] ?? "";
  if (status < 200 || status > 299) {
    throw fromHttpResponse(status, data, contentType) ?? new KratosError(status, "", "");
  }
  const output = route.route.output;
  if (route.rawReply) {
    const httpBody = { contentType, data: new Uint8Array(data) };
    return route.responseField === undefined
      ? toMessage(output, httpBody)
      : toMessage(output, { [route.responseField.localName]: httpBody });
  }
  if (status === 204 || data.length === 0) return create(output);
  const proto = contentType === "" ? codec.name === "proto" : codecOf(contentType) === "proto";
  try {
    const field = route.responseField;
    if (field === undefined) {
      return proto
        ? fromBinary(output, data)
        : fromJsonString(output, data.toString("utf8"), { ignoreUnknownFields: true });
    }
    if (proto) {
      if (field.fieldKind !== "message")
        throw new Error(`response field ${field.name} is not a message`);
      return toMessage(output, { [field.localName]: fromBinary(field.message, data) });
    }
    const json = JSON.parse(data.toString("utf8")) as JsonValue;
    return fromJson(output, { [field.jsonName]: json }, { ignoreUnknownFields: true });
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    throw new KratosError(
      502,
      reasons.codec,
      `cannot decode the reply of ${route.route.operation}: ${detail}`,
      {
        cause: err,
      },
    );
  }
}

/** Methods a server may receive twice without a different outcome (RFC 9110, 9.2.2). */
const idempotent: ReadonlySet<string> = new Set(["GET", "HEAD", "PUT", "DELETE", "OPTIONS"]);

const connectionErrors = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EHOSTUNREACH",
  "ENOTFOUND",
  "EPIPE",
  "ETIMEDOUT",
]);

/** The typed error of a failed call: deadlines become 504, cancellations 499, refused connections 503. */
function clientError(err: unknown, ctx: CancellableContext): KratosError {
  if (err instanceof KratosError) return err;
  if (ctx.aborted) {
    const reason: unknown = ctx.signal.reason;
    return fromError(reason).withCause(err);
  }
  const code = (err as { code?: unknown }).code;
  if (typeof code === "string" && connectionErrors.has(code)) {
    return new KratosError(503, "", (err as Error).message, { cause: err });
  }
  return fromError(err);
}
