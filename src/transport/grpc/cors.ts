// CORS on the gRPC port, for browsers calling over Connect and gRPC-Web: the shared policy
// applied to an exchange before the protocol is detected.
import type { OutgoingHttpHeaders } from "node:http";
import type { Readable } from "node:stream";
import { corsRequest } from "../cors.js";
import type { CorsDefaults, CorsPolicy } from "../cors.js";
import type { Exchange, HeadOptions } from "./exchange.js";

/**
 * What the gRPC port allows when its `cors` option leaves a field out: Connect's and gRPC-Web's
 * methods, any request header a preflight asks for (the origin list is the guard; connect-web
 * sends `connect-protocol-version`, `x-grpc-web`, `x-user-agent`, timeouts), and the response
 * headers that carry a gRPC-Web status and Connect's stream and unary metadata, which a page
 * cannot read unless they are exposed (connect-es's `cors.exposedHeaders` and more).
 */
export const grpcCorsDefaults: CorsDefaults = {
  methods: ["POST", "GET"],
  headers: ["*"],
  exposeHeaders: [
    "Grpc-Status",
    "Grpc-Message",
    "Grpc-Status-Details-Bin",
    "Connect-Content-Encoding",
    "Content-Encoding",
  ],
};

/**
 * Applies `policy` to an exchange: "answered" after a 204 to an allowed preflight, "refused"
 * for a preflight whose origin may not call (the caller answers 403), or the exchange to serve,
 * which adds the CORS headers to whatever head the protocol sends.
 */
export function applyCors(
  policy: CorsPolicy,
  exchange: Exchange,
): Exchange | "answered" | "refused" {
  const answer = policy(corsRequest(exchange.method, exchange.headers));
  switch (answer.kind) {
    case "none":
      return exchange;
    case "preflight":
      exchange.head(204, answer.headers, { end: true });
      return "answered";
    case "refused":
      return "refused";
    case "serve":
      return Object.keys(answer.headers).length === 0
        ? exchange
        : new WithHeaders(exchange, answer.headers);
  }
}

/** An exchange whose head carries extra headers; only cross-origin calls pay for it. */
class WithHeaders implements Exchange {
  constructor(
    readonly inner: Exchange,
    readonly extra: OutgoingHttpHeaders,
  ) {}
  get http2(): boolean {
    return this.inner.http2;
  }
  get method(): string {
    return this.inner.method;
  }
  get path(): string {
    return this.inner.path;
  }
  get search(): string {
    return this.inner.search;
  }
  get headers(): Exchange["headers"] {
    return this.inner.headers;
  }
  get input(): Readable {
    return this.inner.input;
  }
  get headSent(): boolean {
    return this.inner.headSent;
  }
  get closed(): boolean {
    return this.inner.closed;
  }
  head(status: number, headers: OutgoingHttpHeaders, options?: HeadOptions): void {
    this.inner.head(status, { ...headers, ...this.extra }, options);
  }
  write(chunk: Uint8Array): Promise<void> {
    return this.inner.write(chunk);
  }
  end(chunk?: Uint8Array | string, trailers?: OutgoingHttpHeaders): void {
    this.inner.end(chunk, trailers);
  }
  onAbort(listener: () => void): void {
    this.inner.onAbort(listener);
  }
  destroy(): void {
    this.inner.destroy();
  }
  discardInput(): void {
    this.inner.discardInput();
  }
}
