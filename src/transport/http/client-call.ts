// One call of an HTTP client, everything but moving the bytes: the context and its deadline, the
// client transport middleware sees, the middleware chain, the request built from the route, the
// reply (or the Kratos error) decoded from the answer. Both clients (node:http and fetch) run
// their calls through here so they cannot drift apart; no node: import may reach this file.
import { create, fromBinary, fromJson, fromJsonString } from "@bufbuild/protobuf";
import type {
  DescMessage,
  JsonValue,
  Message,
  MessageInitShape,
  MessageShape,
} from "@bufbuild/protobuf";
import { CancellableContext } from "../../context.js";
import type { Context } from "../../context.js";
import { KratosError } from "../../errors/error.js";
import { fromError } from "../../errors/from-error.js";
import { fromHttpResponse } from "../../errors/http.js";
import { reasons } from "../../errors/reasons.js";
import { chain } from "../../middleware/middleware.js";
import type { Handler, Middleware } from "../../middleware/middleware.js";
import type { CallOptions } from "../call-options.js";
import { NodeHeader } from "../header.js";
import { idempotentMethod, setCallTraits } from "../retry-hints.js";
import { setClientTransport } from "../transport.js";
import type { Kind, Transporter } from "../transport.js";
import { httpClientDefaults } from "./client-api.js";
import type { ClientRoute, HttpClientCommonOptions } from "./client-api.js";
import { codecOf } from "../../encoding/media-type.js";
import { encodeMessage, toMessage } from "../../encoding/message.js";
import { replyCodecs } from "../../encoding/negotiate.js";
import type { Negotiated } from "../../encoding/negotiate.js";
import { compileRoute } from "../../http-rule/compile.js";
import type { CompiledRoute } from "../../http-rule/compile.js";
import { buildBody, buildPathAndQuery } from "./request-builder.js";

/** The client transport of an HTTP call. */
export class HttpClientTransporter implements Transporter {
  readonly kind: Kind = "http";
  readonly requestHeader = new NodeHeader({});
  replyHeader = new NodeHeader({});
  constructor(
    /** The node the call went to (`http://h:p`), set when one is picked. */
    public endpoint: string,
    readonly operation: string,
    /** The route's path template as written: `/helloworld/{name}`. */
    readonly pathTemplate: string,
  ) {}
}

/** A call as it reaches the implementation's send step, after the client middleware. */
export interface ClientCall {
  readonly route: CompiledRoute;
  readonly message: Message;
  readonly transport: HttpClientTransporter;
  /** Aborts on the deadline, the caller's signal, or the parent context's cancellation. */
  readonly signal: AbortSignal;
}

/** An HTTP request ready to go on the wire. */
export interface OutgoingRequest {
  method: string;
  /** `/v1/greetings/7?x=1`: to be appended to the node's origin or the endpoint's base URL. */
  pathAndQuery: string;
  /** Lower-case names; a name may carry several values. Content-Length is left to the sender. */
  headers: Record<string, string[]>;
  body: Uint8Array | string | undefined;
}

/** What came back, read whole. */
export interface IncomingReply {
  status: number;
  /** The Content-Type header, or "" when there is none. */
  contentType: string;
  body: Uint8Array;
}

/**
 * The shared half of an HTTP client: one per client, stateless between calls apart from the
 * cache of compiled routes.
 */
export class HttpClientCore {
  /** The negotiated encoding of bodies sent and replies asked for. */
  readonly codec: Negotiated;
  readonly maxBodyBytes: number;
  readonly #timeout: number;
  readonly #headers: Record<string, string> | undefined;
  readonly #middleware: Middleware;
  readonly #routes = new WeakMap<object, CompiledRoute>();

  constructor(options: HttpClientCommonOptions) {
    this.codec = replyCodecs[options.codec ?? httpClientDefaults.codec];
    this.maxBodyBytes = options.maxBodyBytes ?? httpClientDefaults.maxBodyBytes;
    this.#timeout = options.timeout ?? httpClientDefaults.timeout;
    this.#headers = options.headers;
    this.#middleware = chain(...(options.middleware ?? []));
  }

  /**
   * Runs one call: context, transport, middleware, then `send` (which picks a node, moves the
   * bytes and decodes the reply with {@link reply}); any failure comes out as a KratosError.
   */
  async invoke<I extends DescMessage, O extends DescMessage>(
    route: ClientRoute<I, O>,
    req: MessageInitShape<I>,
    options: CallOptions,
    endpoint: string,
    send: (ctx: Context, call: ClientCall) => Promise<Message>,
  ): Promise<MessageShape<O>> {
    const compiled = this.#compiled(route);
    const timeout = options.timeoutMs ?? this.#timeout;
    const ctx = new CancellableContext({
      parent: options.context,
      timeoutMs: timeout > 0 ? timeout : undefined,
      signal: options.signal,
    });
    const transport = new HttpClientTransporter(endpoint, route.operation, route.path);
    for (const [k, v] of Object.entries({ ...this.#headers, ...options.headers })) {
      transport.requestHeader.set(k, v);
    }
    setClientTransport(ctx, transport);
    setCallTraits(ctx, {
      idempotent: options.idempotent ?? idempotentMethod(route.method),
      replayable: true,
    });
    // The innermost handler: the message as the middleware left it.
    const last: Handler = (c, message) =>
      send(c, { route: compiled, message: message as Message, transport, signal: c.signal });
    try {
      const reply = await this.#middleware(last)(ctx, create(route.input, req));
      return reply as MessageShape<O>;
    } catch (err) {
      throw clientError(err, ctx);
    } finally {
      ctx.dispose();
    }
  }

  /** The request of a call: path and query, headers (the transport's included), body. */
  request(call: ClientCall): OutgoingRequest {
    const { route, message, transport } = call;
    const codec = this.codec;
    const pathAndQuery = buildPathAndQuery(route, message);
    const body = buildBody(route, message, (desc, m) =>
      encodeMessage(desc, m, codec.name, { emitImplicit: true }),
    );
    const headers: Record<string, string[]> = { accept: [codec.contentType] };
    for (const key of transport.requestHeader.keys()) {
      headers[key] = transport.requestHeader.values(key);
    }
    if (body !== undefined) headers["content-type"] = [body.contentType ?? codec.contentType];
    return { method: route.route.method, pathAndQuery, headers, body: body?.body };
  }

  /** The reply message of an answer, or the typed error it carries. */
  reply(route: CompiledRoute, answer: IncomingReply): Message {
    return decodeReply(route, answer, this.codec);
  }

  #compiled(route: ClientRoute): CompiledRoute {
    let compiled = this.#routes.get(route);
    if (compiled === undefined) {
      compiled = compileRoute(route);
      this.#routes.set(route, compiled);
    }
    return compiled;
  }
}

/** The error of a response body past `limit` bytes. */
export function bodyTooLarge(limit: number): KratosError {
  return new KratosError(502, reasons.payloadTooLarge, `response body larger than ${limit} bytes`);
}

// Stateless between calls (no streaming decode), so one serves them all.
const utf8 = new TextDecoder();

function decodeReply(route: CompiledRoute, answer: IncomingReply, codec: Negotiated): Message {
  const { status, contentType, body } = answer;
  if (status < 200 || status > 299) {
    throw fromHttpResponse(status, body, contentType) ?? new KratosError(status, "", "");
  }
  const output = route.route.output;
  if (route.rawReply) {
    const httpBody = { contentType, data: new Uint8Array(body) };
    return route.responseField === undefined
      ? toMessage(output, httpBody)
      : toMessage(output, { [route.responseField.localName]: httpBody });
  }
  if (status === 204 || body.length === 0) return create(output);
  const proto = contentType === "" ? codec.name === "proto" : codecOf(contentType) === "proto";
  try {
    const field = route.responseField;
    if (field === undefined) {
      return proto
        ? fromBinary(output, body)
        : fromJsonString(output, utf8.decode(body), { ignoreUnknownFields: true });
    }
    if (proto) {
      if (field.fieldKind !== "message")
        throw new Error(`response field ${field.name} is not a message`);
      return toMessage(output, { [field.localName]: fromBinary(field.message, body) });
    }
    const json = JSON.parse(utf8.decode(body)) as JsonValue;
    return fromJson(output, { [field.jsonName]: json }, { ignoreUnknownFields: true });
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    throw new KratosError(
      502,
      reasons.codec,
      `cannot decode the reply of ${route.route.operation}: ${detail}`,
      { cause: err },
    );
  }
}

// Node's socket error codes; the fetch client maps its own network failures before this.
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
