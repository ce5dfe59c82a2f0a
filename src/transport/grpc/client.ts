import { create } from "@bufbuild/protobuf";
import type { DescMethod, DescService, MessageInitShape, MessageShape } from "@bufbuild/protobuf";
import { MethodOptions_IdempotencyLevel } from "@bufbuild/protobuf/wkt";
import { createClient } from "@connectrpc/connect";
import type { CallOptions as ConnectCallOptions, Client, Transport } from "@connectrpc/connect";
import {
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
  Http2SessionManager,
} from "@connectrpc/connect-node";
import type { ConnectionOptions as TlsConnectionOptions } from "node:tls";
import { CancellableContext } from "../../context.js";
import { KratosError } from "../../errors/error.js";
import { fromError } from "../../errors/from-error.js";
import { chain } from "../../middleware/middleware.js";
import type { Handler, Middleware } from "../../middleware/middleware.js";
import type { CallOptions } from "../call-options.js";
import { NodeHeader } from "../header.js";
import type { SelectorOptions } from "../../selector/default-selector.js";
import type { Node } from "../../selector/selector.js";
import { NodePicker } from "../node-picker.js";
import type { NodePick } from "../node-picker.js";
import { routedNodes } from "../route-hint.js";
import { resolverFor } from "../resolver.js";
import type { Resolver } from "../resolver.js";
import { setCallTraits } from "../retry-hints.js";
import { setClientTransport } from "../transport.js";
import type { Kind, Transporter } from "../transport.js";
import { connectionLost } from "./connection-lost.js";

/** Options of {@link createGrpcClient}. */
export interface GrpcClientOptions {
  /**
   * `grpc://host:port` (or a bare `host:port`), `grpcs://host:port` (TLS), `direct:///h1:p1,h2:p2`
   * (balanced) or `discovery:///name` (with `resolver`).
   */
  endpoint: string;
  /**
   * Call over TLS with these options: `ca` to trust a private CA, and `cert` + `key` for mTLS
   * (`servername`, `rejectUnauthorized`, ... as node's `tls.connect`). With it every node is
   * called over TLS, whatever its scheme (as Go Kratos's `WithTLSConfig`); without it only
   * `grpcs://` and `https://` nodes are, trusting the system's CAs.
   */
  tls?: TlsConnectionOptions;
  /** Wire protocol: `grpc` (default, HTTP/2), `connect` (HTTP/2) or `grpc-web` (HTTP/1.1). */
  protocol?: "grpc" | "connect" | "grpc-web";
  /**
   * Deadline of each call in ms, sent as grpc-timeout; 0: none. Default 2 000 for unary calls
   * and none for streaming calls (as Go Kratos, whose timeout is a unary interceptor's); a value
   * set here applies to streams too. A call's own `timeoutMs` wins.
   */
  timeout?: number;
  /** Client middleware, outermost first. Streaming calls run it when the stream opens. */
  middleware?: Middleware[];
  /** Headers (metadata) sent with every call. */
  headers?: Record<string, string>;
  /** Resolves `discovery:///` endpoints. */
  resolver?: Resolver;
  /**
   * How calls are spread over the nodes: the balancer (`p2c`, the default, `wrr` or `random`)
   * and node filters (by version, metadata or your own).
   */
  selector?: SelectorOptions;
}

type ClientMethod<M> = M extends { methodKind: "unary"; input: infer I; output: infer O }
  ? I extends DescMethod["input"]
    ? O extends DescMethod["output"]
      ? (req: MessageInitShape<I>, options?: CallOptions) => Promise<MessageShape<O>>
      : never
    : never
  : M extends { methodKind: "server_streaming"; input: infer I; output: infer O }
    ? I extends DescMethod["input"]
      ? O extends DescMethod["output"]
        ? (req: MessageInitShape<I>, options?: CallOptions) => AsyncIterable<MessageShape<O>>
        : never
      : never
    : M extends { methodKind: "client_streaming"; input: infer I; output: infer O }
      ? I extends DescMethod["input"]
        ? O extends DescMethod["output"]
          ? (
              reqs: AsyncIterable<MessageInitShape<I>>,
              options?: CallOptions,
            ) => Promise<MessageShape<O>>
          : never
        : never
      : M extends { methodKind: "bidi_streaming"; input: infer I; output: infer O }
        ? I extends DescMethod["input"]
          ? O extends DescMethod["output"]
            ? (
                reqs: AsyncIterable<MessageInitShape<I>>,
                options?: CallOptions,
              ) => AsyncIterable<MessageShape<O>>
            : never
          : never
        : never;

/** A typed client of a service from protoc-gen-es: one method per RPC, plus `close`. */
export type GrpcClient<S extends DescService> = {
  [K in keyof S["method"]]: ClientMethod<S["method"][K]>;
} & {
  /** Closes the connections of the client. */
  close(): void;
};

class ClientTransporter implements Transporter {
  readonly kind: Kind = "grpc";
  readonly requestHeader = new NodeHeader({});
  readonly replyHeader = new NodeHeader({});
  endpoint = "";
  constructor(readonly operation: string) {}
}

/** The pooled connection of one node. */
interface Pooled {
  client: Client<DescService>;
  sessions?: Http2SessionManager;
  // Calls under way on the node: a node that left the resolver's list is closed once they are
  // done, so a registry update never cuts a call short.
  calls: number;
  retired: boolean;
}

/** Whether a node is called over TLS: the client has `tls`, or the node's scheme says so. */
function secureNode(url: URL, tls: boolean): boolean {
  return tls || url.protocol === "https:" || url.protocol === "grpcs:";
}

/** The URL connect-node calls for a node: https for TLS, http (h2c) otherwise. */
function baseUrlOf(url: URL, tls: boolean): string {
  return `${secureNode(url, tls) ? "https" : "http"}://${url.host}`;
}

function release(node: Pooled): void {
  node.calls--;
  if (node.retired && node.calls === 0) node.sessions?.abort();
}

/**
 * Creates a client of `service`: the same typed errors as the server sends (code, reason,
 * metadata), client middleware, deadlines sent as grpc-timeout and inherited from the caller's
 * context, metadata, and `direct:///` or `discovery:///` endpoints balanced by a selector (p2c
 * by default) over pooled connections.
 */
/** Go Kratos's client default, for unary calls when `timeout` is not set. */
const defaultUnaryTimeout = 2_000;

export function createGrpcClient<S extends DescService>(
  service: S,
  options: GrpcClientOptions,
): GrpcClient<S> {
  let resolver: Resolver;
  try {
    resolver = resolverFor(
      options.endpoint,
      options.tls === undefined ? "grpc" : "grpcs",
      ["grpc", "grpcs", "http", "https"],
      options.resolver,
    );
  } catch (err) {
    throw new Error(`grpc client: ${err instanceof Error ? err.message : String(err)}`, {
      cause: err,
    });
  }
  const nodes = new Map<string, Pooled>();
  const middleware = chain(...(options.middleware ?? []));
  const tls = options.tls !== undefined;

  /** Forgets the pooled connections of nodes that left, closing each once it is idle. */
  const prune = (list: readonly Node[]) => {
    const live = new Set(list.map((n) => baseUrlOf(n.url, tls)));
    for (const [baseUrl, node] of nodes) {
      if (live.has(baseUrl)) continue;
      nodes.delete(baseUrl);
      node.retired = true;
      if (node.calls === 0) node.sessions?.abort();
    }
  };

  const picker = new NodePicker(resolver, options.selector, prune);

  const nodeFor = (url: URL): Pooled => {
    const baseUrl = baseUrlOf(url, tls);
    let node = nodes.get(baseUrl);
    if (node !== undefined) return node;
    let transport: Transport;
    let sessions: Http2SessionManager | undefined;
    if (options.protocol === "grpc-web") {
      transport = createGrpcWebTransport({
        baseUrl,
        httpVersion: "1.1",
        ...(options.tls === undefined ? {} : { nodeOptions: options.tls }),
      });
    } else {
      sessions = new Http2SessionManager(baseUrl, undefined, options.tls);
      transport =
        options.protocol === "connect"
          ? createConnectTransport({ baseUrl, httpVersion: "2", sessionManager: sessions })
          : createGrpcTransport({ baseUrl, sessionManager: sessions });
    }
    node = {
      client: createClient(service, transport),
      ...(sessions === undefined ? {} : { sessions }),
      calls: 0,
      retired: false,
    };
    nodes.set(baseUrl, node);
    return node;
  };

  /** A call's context and client transport, with the caller's deadline, signal and headers. */
  const startCall = (method: DescMethod, callOptions: CallOptions) => {
    const timeout =
      callOptions.timeoutMs ??
      options.timeout ??
      (method.methodKind === "unary" ? defaultUnaryTimeout : 0);
    const ctx = new CancellableContext({
      parent: callOptions.context,
      timeoutMs: timeout > 0 ? timeout : undefined,
      signal: callOptions.signal,
    });
    const transport = new ClientTransporter(`/${service.typeName}/${method.name}`);
    for (const [k, v] of Object.entries({ ...options.headers, ...callOptions.headers })) {
      transport.requestHeader.set(k, v);
    }
    setClientTransport(ctx, transport);
    setCallTraits(ctx, {
      idempotent:
        callOptions.idempotent ??
        method.idempotency !== MethodOptions_IdempotencyLevel.IDEMPOTENCY_UNKNOWN,
      replayable: method.methodKind === "unary",
    });
    // The connections this call used (more than one when it moved to another node, or a
    // middleware retried), released when it ends.
    const used: Pooled[] = [];
    // The picks of streams, whose outcome is known only when the stream ends.
    const streams: NodePick[] = [];
    const open = (node: Node, req: unknown) => {
      transport.endpoint = `${secureNode(node.url, tls) ? "grpcs" : "grpc"}://${node.url.host}`;
      const pooled = nodeFor(node.url);
      pooled.calls++;
      used.push(pooled);
      return callNode(pooled, method, req, connectOptions(ctx, transport), node.url.host);
    };
    // The innermost handler: pick a node and make the call with what middleware left in ctx.
    const send: Handler = async (c, req) => {
      // A unary request can be sent again, so it may move to another node (NodePicker.call).
      if (method.methodKind === "unary") return picker.call(c, (node) => open(node, req));
      const pick = await picker.pick(c.signal, undefined, undefined, routedNodes(c));
      streams.push(pick);
      return open(pick.node, req);
    };
    const done = (err?: unknown) => {
      for (const pick of streams.splice(0)) pick.done(ctx, err);
      for (const pooled of used.splice(0)) release(pooled);
      ctx.dispose();
    };
    return { ctx, run: (req: unknown) => middleware(send)(ctx, req), done };
  };

  const methods: Record<string, unknown> = {};
  for (const method of service.methods) {
    const input = method.input;
    const request = (req: unknown): unknown =>
      method.methodKind === "unary" || method.methodKind === "server_streaming"
        ? create(input, req as never)
        : mapStream(req as AsyncIterable<object>, (r) => create(input, r as never));
    if (method.methodKind === "unary" || method.methodKind === "client_streaming") {
      methods[method.localName] = async (req: unknown, callOptions: CallOptions = {}) => {
        const { ctx, run, done } = startCall(method, callOptions);
        let failure: unknown;
        try {
          return await run(request(req));
        } catch (err) {
          failure = err;
          throw clientError(err, ctx);
        } finally {
          done(failure);
        }
      };
    } else {
      methods[method.localName] = async function* stream(
        req: unknown,
        callOptions: CallOptions = {},
      ) {
        const { ctx, run, done } = startCall(method, callOptions);
        let failure: unknown;
        try {
          const replies = (await run(request(req))) as AsyncIterable<unknown>;
          for await (const reply of replies) yield reply;
        } catch (err) {
          failure = err;
          throw clientError(err, ctx);
        } finally {
          done(failure);
        }
      };
    }
  }
  methods.close = () => {
    for (const node of nodes.values()) node.sessions?.abort();
    nodes.clear();
    picker.close();
  };
  return methods as GrpcClient<S>;
}

/** connect's call options from our context: signal, remaining deadline, headers, reply headers. */
function connectOptions(
  ctx: CancellableContext,
  transport: ClientTransporter,
): ConnectCallOptions & { signal: AbortSignal } {
  // Every attempt starts with an empty reply header: a retried call shows the headers of the
  // attempt that answered, not those of every attempt before it.
  for (const key of transport.replyHeader.keys()) transport.replyHeader.delete(key);
  const headers: [string, string][] = [];
  for (const key of transport.requestHeader.keys()) {
    for (const v of transport.requestHeader.values(key)) headers.push([key, v]);
  }
  return {
    signal: ctx.signal,
    ...(ctx.deadline === undefined ? {} : { timeoutMs: Math.max(1, ctx.deadline - Date.now()) }),
    headers,
    onHeader: (h: Headers) => {
      h.forEach((v, k) => {
        transport.replyHeader.add(k, v);
      });
    },
  };
}

function callNode(
  node: Pooled,
  method: DescMethod,
  req: unknown,
  options: { signal: AbortSignal },
  host: string,
): Promise<unknown> {
  const fn = (node.client as Record<string, (r: unknown, o: object) => unknown>)[method.localName];
  if (fn === undefined) return Promise.reject(new Error(`no client method ${method.localName}`));
  const lost = (err: unknown) => connectionLost(err, options.signal, host);
  const result = fn(req, options);
  if (result instanceof Promise) {
    return result.catch((err: unknown) => {
      throw lost(err);
    });
  }
  // Streaming replies are returned as they are (with the same error mapping); the caller
  // iterates them.
  return Promise.resolve(mapErrors(result as AsyncIterable<unknown>, lost));
}

async function* mapStream<T, U>(source: AsyncIterable<T>, f: (t: T) => U): AsyncIterable<U> {
  for await (const item of source) yield f(item);
}

async function* mapErrors<T>(
  source: AsyncIterable<T>,
  map: (err: unknown) => unknown,
): AsyncIterable<T> {
  try {
    yield* source;
  } catch (err) {
    throw map(err);
  }
}

/** The typed error of a failed call (ConnectErrors carry the server's ErrorInfo). */
function clientError(err: unknown, ctx: CancellableContext): KratosError {
  if (err instanceof KratosError) return err;
  const converted = fromError(err);
  // A local abort before any status arrived: report why the context ended.
  if (ctx.aborted && converted.code === 499 && converted.reason === "") {
    const reason: unknown = ctx.signal.reason;
    return fromError(reason).withCause(err);
  }
  return converted;
}
