// The node:http HTTP client: pooled keep-alive connections per node, balanced over the nodes of
// an endpoint (direct:/// or discovery:///). The fast path on Node; fetch-client.ts is the
// portable one. What both share (context, middleware, request and reply coding) is client-call.ts.
import type { DescMessage, Message, MessageInitShape, MessageShape } from "@bufbuild/protobuf";
import http from "node:http";
import type { IncomingMessage, OutgoingHttpHeaders } from "node:http";
import https from "node:https";
import type { Socket } from "node:net";
import type { SelectorOptions } from "../../selector/default-selector.js";
import type { Node } from "../../selector/selector.js";
import type { CallOptions } from "../call-options.js";
import { NodeHeader } from "../header.js";
import { NodePicker } from "../node-picker.js";
import { markNotSent } from "../not-sent.js";
import { resolverFor } from "../resolver.js";
import type { Resolver } from "../resolver.js";
import type { ClientRoute, HttpClient, HttpClientCommonOptions } from "./client-api.js";
import { bodyTooLarge, HttpClientCore } from "./client-call.js";
import type { ClientCall } from "./client-call.js";

export type { ClientRoute, HttpClient } from "./client-api.js";

/** Options of {@link createHttpClient}; the common ones are in {@link HttpClientCommonOptions}. */
export interface HttpClientOptions extends HttpClientCommonOptions {
  /**
   * `http://host:port`, `https://host:port`, `direct:///h1:p1,h2:p2` (balanced) or
   * `discovery:///name` (with `resolver`).
   */
  endpoint: string;
  /** Resolves `discovery:///` endpoints. */
  resolver?: Resolver;
  /**
   * How calls are spread over the nodes: the balancer (`p2c`, the default, `wrr` or `random`)
   * and node filters (by version, metadata or your own).
   */
  selector?: SelectorOptions;
  /** TLS options for https endpoints (ca, cert, key, ...). */
  tls?: https.AgentOptions;
}

/** Creates an HTTP client; see {@link HttpClientOptions}. */
export function createHttpClient(options: HttpClientOptions): HttpClient {
  return new KratosHttpClient(options);
}

class KratosHttpClient implements HttpClient {
  readonly #tls: https.AgentOptions | undefined;
  readonly #core: HttpClientCore;
  readonly #picker: NodePicker;
  // One keep-alive agent per node (origin), so the connections of a node that left the
  // resolver's list can be closed without touching the others.
  readonly #agents = new Map<string, http.Agent>();

  constructor(options: HttpClientOptions) {
    let resolver: Resolver;
    try {
      resolver = resolverFor(options.endpoint, "http", ["http", "https"], options.resolver);
    } catch (err) {
      throw new Error(`http client: ${err instanceof Error ? err.message : String(err)}`, {
        cause: err,
      });
    }
    this.#tls = options.tls;
    this.#core = new HttpClientCore(options);
    this.#picker = new NodePicker(resolver, options.selector, (nodes) => {
      this.#prune(nodes);
    });
  }

  invoke<I extends DescMessage, O extends DescMessage>(
    route: ClientRoute<I, O>,
    req: MessageInitShape<I>,
    options: CallOptions = {},
  ): Promise<MessageShape<O>> {
    // A request that never reached its node moves to another one (the picker's retry).
    return this.#core.invoke(route, req, options, "", (ctx, call) =>
      this.#picker.call(ctx, (node) => {
        call.transport.endpoint = node.url.origin;
        return this.#exchange(node.url, call);
      }),
    );
  }

  close(): void {
    for (const agent of this.#agents.values()) agent.destroy();
    this.#agents.clear();
    this.#picker.close();
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
          ? new https.Agent({ keepAlive: true, ...this.#tls })
          : new http.Agent({ keepAlive: true });
      this.#agents.set(node.origin, agent);
    }
    return agent;
  }

  #exchange(node: URL, call: ClientCall): Promise<Message> {
    const core = this.#core;
    const out = core.request(call);
    const headers: OutgoingHttpHeaders = out.headers;
    const body = out.body;
    if (body !== undefined) {
      headers["content-length"] =
        typeof body === "string" ? Buffer.byteLength(body) : body.byteLength;
    }
    const secure = node.protocol === "https:";
    const limit = core.maxBodyBytes;
    return new Promise<Message>((resolve, reject) => {
      const request = (secure ? https : http).request(
        {
          protocol: node.protocol,
          hostname: node.hostname,
          port: node.port,
          method: out.method,
          path: out.pathAndQuery,
          headers,
          agent: this.#agentFor(node),
          signal: call.signal,
        },
        (res) => {
          call.transport.replyHeader = new NodeHeader(res.headers);
          readAll(res, limit).then((data) => {
            try {
              const contentType = res.headers["content-type"] ?? "";
              resolve(
                core.reply(call.route, { status: res.statusCode ?? 0, contentType, body: data }),
              );
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
        reject(reset && idempotent.has(out.method) ? markNotSent(err) : err);
      });
      request.end(body);
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
        reject(bodyTooLarge(limit));
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

/** Methods a server may receive twice without a different outcome (RFC 9110, 9.2.2). */
const idempotent: ReadonlySet<string> = new Set(["GET", "HEAD", "PUT", "DELETE", "OPTIONS"]);
