// The HTTP client seam: what the generated `create<Svc>HTTPClient` wraps, and the options every
// implementation shares (node:http in client.ts, fetch in fetch-client.ts). No node: import may
// reach this file: browsers load it.
import type { DescMessage, MessageInitShape, MessageShape } from "@bufbuild/protobuf";
import type { Middleware } from "../../middleware/middleware.js";
import type { CallOptions } from "../call-options.js";
import type { RouteBinding } from "../../http-rule/compile.js";

/** A route as a client needs it: the binding without the handler. */
export type ClientRoute<
  I extends DescMessage = DescMessage,
  O extends DescMessage = DescMessage,
> = RouteBinding<I, O>;

/**
 * Calls HTTP routes; the generated `create<Svc>HTTPClient` wraps one. Implementations:
 * {@link createHttpClient} (node:http, pooled, balanced; the fast path on Node) and
 * {@link createFetchHttpClient} (fetch: browsers, Deno, Bun, Node).
 */
export interface HttpClient {
  /**
   * Sends `req` over `route` and resolves with the reply; rejects with a KratosError (the
   * server's, decoded from the Kratos error body, or 504 on deadline, 499 on cancel, 503 when
   * the server cannot be reached).
   */
  invoke<I extends DescMessage, O extends DescMessage>(
    route: ClientRoute<I, O>,
    req: MessageInitShape<I>,
    options?: CallOptions,
  ): Promise<MessageShape<O>>;
  /** Closes pooled connections (nothing to close for fetch). */
  close(): void;
}

/** The body encodings of HTTP clients, by Go Kratos's codec names. */
export type HttpClientCodec = "json" | "protojson" | "proto";

/** Options every HTTP client takes, whatever carries its requests. */
export interface HttpClientCommonOptions {
  /** Deadline of each call in ms; 0: none. Default 2 000, as Go Kratos. A call's `timeoutMs` wins. */
  timeout?: number;
  /** Client middleware, outermost first. Default: none. */
  middleware?: Middleware[];
  /**
   * Body encoding, sent as Content-Type and Accept: `json` (default), `protojson` (the same
   * bytes as `application/protojson`, what Go Kratos v3 servers and clients speak) or `proto`.
   */
  codec?: HttpClientCodec;
  /** Headers sent with every call. Default: none. */
  headers?: Record<string, string>;
  /** Largest accepted response body in bytes. Default 4 MiB. */
  maxBodyBytes?: number;
}

/** The defaults of {@link HttpClientCommonOptions}, in one place. */
export const httpClientDefaults = {
  timeout: 2_000,
  codec: "json",
  maxBodyBytes: 4 * 1024 * 1024,
} as const satisfies Required<Pick<HttpClientCommonOptions, "timeout" | "codec" | "maxBodyBytes">>;
