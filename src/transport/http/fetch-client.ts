// The fetch HTTP client: the same calls as the node:http client (client.ts), carried by the
// platform's fetch, so generated `*_http.ts` clients run in browsers, Deno, Bun and Node. One
// endpoint, no pool of its own: the platform's fetch pools connections. No node: import may
// reach this file (test/browser/import-graph.test.ts holds that).
import type { DescMessage, Message, MessageInitShape, MessageShape } from "@bufbuild/protobuf";
import { KratosError } from "../../errors/error.js";
import type { CallOptions } from "../call-options.js";
import { NodeHeader } from "../header.js";
import type { RawHeaders } from "../header.js";
import type { ClientRoute, HttpClient, HttpClientCommonOptions } from "./client-api.js";
import { bodyTooLarge, HttpClientCore } from "./client-call.js";
import type { ClientCall } from "./client-call.js";

/** Options of {@link createFetchHttpClient}; the common ones are in {@link HttpClientCommonOptions}. */
export interface FetchHttpClientOptions extends HttpClientCommonOptions {
  /**
   * The base URL routes are appended to: `https://api.example.com`, `http://127.0.0.1:8000`,
   * with an optional path prefix (`https://example.com/api`); or, in a browser, a path such as
   * `/api` (or `""`), resolved against the page's origin. A bare `host:port` means
   * `http://host:port`. No `direct:///` or `discovery:///`: use {@link createHttpClient} for
   * balancing over nodes.
   */
  endpoint: string;
  /**
   * The fetch to call. Default: `globalThis.fetch`, looked up at each call so that a fetch
   * patched later (a test double, a service worker shim) is used.
   */
  fetch?: typeof fetch;
  /**
   * Whether the browser sends cookies and HTTP auth with each request: `omit`, `same-origin`
   * (the fetch default) or `include` (cross-origin too: the server's CORS must then allow
   * credentials and name the page's origin).
   */
  credentials?: "omit" | "same-origin" | "include";
}

/**
 * Creates an HTTP client on `fetch`: pass it to a generated `create<Svc>HTTPClient`. URLs,
 * bodies, codecs, middleware, deadlines and the decoded KratosError are those of
 * {@link createHttpClient}; on Node, that one is faster (see bench/README.md).
 *
 * @example
 * ```ts
 * const greeter = createGreeterHTTPClient(
 *   createFetchHttpClient({ endpoint: "https://api.example.com", timeout: 5000 }),
 * );
 * const reply = await greeter.sayHello({ name: "world" });
 * ```
 */
export function createFetchHttpClient(options: FetchHttpClientOptions): HttpClient {
  return new FetchHttpClient(options);
}

class FetchHttpClient implements HttpClient {
  readonly #base: string;
  readonly #core: HttpClientCore;
  readonly #fetch: typeof fetch | undefined;
  readonly #credentials: FetchHttpClientOptions["credentials"];

  constructor(options: FetchHttpClientOptions) {
    this.#base = baseUrl(options.endpoint);
    this.#core = new HttpClientCore(options);
    this.#fetch = options.fetch;
    this.#credentials = options.credentials;
  }

  invoke<I extends DescMessage, O extends DescMessage>(
    route: ClientRoute<I, O>,
    req: MessageInitShape<I>,
    options: CallOptions = {},
  ): Promise<MessageShape<O>> {
    return this.#core.invoke(route, req, options, this.#base, (_ctx, call) => this.#exchange(call));
  }

  close(): void {
    // The platform's fetch owns its connections.
  }

  async #exchange(call: ClientCall): Promise<Message> {
    const core = this.#core;
    const out = core.request(call);
    const headers: [string, string][] = [];
    for (const [name, values] of Object.entries(out.headers)) {
      for (const value of values) headers.push([name, value]);
    }
    const url = this.#base + out.pathAndQuery;
    const init: RequestInit = { method: out.method, headers, signal: call.signal };
    // Encoded bodies own plain ArrayBuffers; DOM's BodyInit refuses views that could be shared.
    if (out.body !== undefined) init.body = out.body as string | Uint8Array<ArrayBuffer>;
    if (this.#credentials !== undefined) init.credentials = this.#credentials;
    const fetchFn = this.#fetch ?? globalThis.fetch;
    let res: Response;
    try {
      res = await fetchFn(url, init);
    } catch (err) {
      // An aborted call rejects with the signal's reason, which the core turns into 504 / 499.
      if (call.signal.aborted) throw err;
      // fetch says no more than "Failed to fetch" for a refused connection, a DNS failure or a
      // CORS refusal (browsers hide which on purpose): the server could not be reached.
      const detail = err instanceof Error ? err.message : String(err);
      throw new KratosError(503, "", `${out.method} ${url}: ${detail}`, { cause: err });
    }
    call.transport.replyHeader = new NodeHeader(rawHeaders(res.headers));
    const body = await readBody(res, core.maxBodyBytes);
    const contentType = res.headers.get("content-type") ?? "";
    return core.reply(call.route, { status: res.status, contentType, body });
  }
}

/** The base URL of an endpoint, without a trailing slash, so route paths append to it. */
function baseUrl(endpoint: string): string {
  // A path (browsers: relative to the page); fetch resolves it.
  if (endpoint === "" || endpoint.startsWith("/")) return endpoint.replace(/\/+$/, "");
  const absolute = /^[a-z][a-z0-9+.-]*:\/\//i.test(endpoint) ? endpoint : `http://${endpoint}`;
  let url: URL;
  try {
    url = new URL(absolute);
  } catch {
    throw new Error(`fetch http client: bad endpoint "${endpoint}"`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new Error(`fetch http client: unsupported scheme in endpoint "${endpoint}"`);
  }
  if (url.search !== "" || url.hash !== "") {
    throw new Error(`fetch http client: endpoint "${endpoint}" may not have a query or fragment`);
  }
  return (url.origin + url.pathname).replace(/\/+$/, "");
}

function rawHeaders(headers: Headers): RawHeaders {
  const raw: RawHeaders = {};
  headers.forEach((value, name) => {
    raw[name] = value;
  });
  return raw;
}

/** The whole body, refusing more than `limit` bytes (declared or streamed) without reading on. */
async function readBody(res: Response, limit: number): Promise<Uint8Array> {
  const declared = Number(res.headers.get("content-length") ?? "0");
  const stream = res.body;
  if (declared > limit) {
    await stream?.cancel();
    throw bodyTooLarge(limit);
  }
  if (stream === null) return new Uint8Array(0);
  // Typed `any` chunks by @types/node; a fetch body's chunks are Uint8Arrays by the spec.
  const reader = (stream as ReadableStream<Uint8Array>).getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw bodyTooLarge(limit);
    }
    chunks.push(value);
  }
  if (chunks.length === 1 && chunks[0] !== undefined) return chunks[0];
  const body = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return body;
}
