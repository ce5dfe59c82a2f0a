import type {
  IncomingHttpHeaders,
  IncomingMessage,
  OutgoingHttpHeaders,
  ServerResponse,
} from "node:http";
import type {
  IncomingHttpHeaders as Http2Headers,
  ServerHttp2Stream,
  ServerStreamResponseOptions,
} from "node:http2";
import { constants as http2constants } from "node:http2";
import type { Readable } from "node:stream";
import { closesAfterReply } from "../http1/connections.js";

/** How {@link Exchange.head} sends a head. */
export interface HeadOptions {
  /** Keep an HTTP/2 stream open for trailers at `end`. */
  readonly trailers?: boolean;
  /** The head is the whole response (no body, no trailers). */
  readonly end?: boolean;
  /**
   * Send a `date` header on HTTP/2. Default true. gRPC leaves it out, as grpc-go does: it is
   * not part of the gRPC wire format, and it costs ~3% of a unary call (measured).
   */
  readonly date?: boolean;
}

/**
 * One request/response exchange, over an HTTP/2 stream or an HTTP/1.1 request, as the RPC
 * protocols need it: read the body, send a head, messages and an end (with trailers on HTTP/2).
 * The raw h2 stream API is used, not node's compat layer, which costs a lot per request.
 */
export interface Exchange {
  readonly http2: boolean;
  readonly method: string;
  readonly path: string;
  /** The query string without `?`. */
  readonly search: string;
  readonly headers: IncomingHttpHeaders;
  /** The request body. */
  readonly input: Readable;
  /** True once the head is sent. */
  readonly headSent: boolean;
  /** True once the peer went away or the exchange finished. */
  readonly closed: boolean;
  /** Sends the head (see {@link HeadOptions}). */
  head(status: number, headers: OutgoingHttpHeaders, options?: HeadOptions): void;
  /** Headers the head carries besides the protocol's own (CORS); call before the head. */
  addHeaders(headers: OutgoingHttpHeaders): void;
  /** Writes body bytes; resolves at once, or when the peer drained a full buffer. */
  write(chunk: Uint8Array): Promise<void>;
  /**
   * Ends the body (a string is written as UTF-8), with trailers on HTTP/2 when the head asked
   * for them.
   */
  end(chunk?: Uint8Array | string, trailers?: OutgoingHttpHeaders): void;
  /**
   * Calls `listener` when the peer goes away before the exchange ends; at once when that
   * already happened.
   */
  onAbort(listener: () => void): void;
  /** Resets the stream / destroys the connection's request. */
  destroy(): void;
  /**
   * The rest of the request body will not be read. HTTP/1.1 stops reading (the connection then
   * drains a little or closes, see Http1Connections); HTTP/2 drops what is in flight, and the
   * end of the response asks the client to stop sending.
   */
  discardInput(): void;
}

/** An exchange over a server-side HTTP/2 stream. */
export class Http2Exchange implements Exchange {
  readonly http2 = true;
  readonly method: string;
  readonly path: string;
  readonly search: string;
  #headSent = false;
  #finished = false;
  #wantsTrailers = false;
  // Only cross-origin calls have any; the common head is sent as the protocol built it.
  #extra: OutgoingHttpHeaders | undefined;

  readonly headers: IncomingHttpHeaders;

  constructor(
    readonly stream: ServerHttp2Stream,
    headers: Http2Headers,
  ) {
    this.headers = headers;
    this.method = headers[":method"] ?? "GET";
    const url = headers[":path"] ?? "/";
    const q = url.indexOf("?");
    this.path = q < 0 ? url : url.slice(0, q);
    this.search = q < 0 ? "" : url.slice(q + 1);
  }

  get input(): Readable {
    return this.stream;
  }

  get headSent(): boolean {
    return this.#headSent;
  }

  get closed(): boolean {
    return this.#finished || this.stream.destroyed || this.stream.closed;
  }

  addHeaders(headers: OutgoingHttpHeaders): void {
    this.#extra = { ...this.#extra, ...headers };
  }

  head(status: number, headers: OutgoingHttpHeaders, options: HeadOptions = {}): void {
    if (this.#headSent || this.closed) return;
    this.#headSent = true;
    this.#wantsTrailers = options.trailers === true && options.end !== true;
    if (options.end === true) this.#finished = true;
    const all = this.#extra === undefined ? headers : { ...headers, ...this.#extra };
    respond(this.stream, status, all, {
      endStream: options.end === true,
      waitForTrailers: this.#wantsTrailers,
      sendDate: options.date !== false,
    });
    if (options.end === true) this.#stopInput();
  }

  write(chunk: Uint8Array): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (this.stream.write(chunk)) return Promise.resolve();
    return drain(this.stream);
  }

  end(chunk?: Uint8Array | string, trailers?: OutgoingHttpHeaders): void {
    if (this.#finished || this.closed) return;
    this.#finished = true;
    if (this.#wantsTrailers) {
      // `on`, not `once`: node emits it once per stream, and `once` costs a wrapper per call.
      this.stream.on("wantTrailers", () => {
        this.stream.sendTrailers(trailers ?? {});
        this.#stopInput();
      });
    }
    if (chunk === undefined) this.stream.end();
    else this.stream.end(chunk);
    if (!this.#wantsTrailers) this.#stopInput();
  }

  /**
   * After a complete response, asks a client still sending to stop, without error
   * (RST_STREAM NO_ERROR, RFC 9113 section 8.1; grpc-go does the same): the request's rest would
   * otherwise be read for nothing, or hold the stream open. Node sends it after our last frame.
   */
  #stopInput(): void {
    const stream = this.stream;
    if (stream.readableEnded || stream.endAfterHeaders || stream.closed) return;
    stream.close(http2constants.NGHTTP2_NO_ERROR);
    // Node destroys a closed stream only once its input has ended: it must keep flowing.
    stream.resume();
  }

  discardInput(): void {
    this.stream.resume();
  }

  onAbort(listener: () => void): void {
    const check = () => {
      if (!this.#finished || this.stream.rstCode !== 0) listener();
    };
    if (this.stream.closed || this.stream.destroyed) check();
    else this.stream.once("close", check);
  }

  destroy(): void {
    this.#finished = true;
    this.stream.close(0x8); // CANCEL
  }
}

/** An exchange over an HTTP/1.1 request (Connect and gRPC-Web from browsers). */
export class Http1Exchange implements Exchange {
  readonly http2 = false;
  readonly method: string;
  readonly path: string;
  readonly search: string;
  readonly headers: IncomingHttpHeaders;
  #finished = false;

  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
  ) {
    this.method = req.method ?? "GET";
    const url = req.url ?? "/";
    const q = url.indexOf("?");
    this.path = q < 0 ? url : url.slice(0, q);
    this.search = q < 0 ? "" : url.slice(q + 1);
    this.headers = req.headers;
  }

  get input(): Readable {
    return this.req;
  }

  get headSent(): boolean {
    return this.res.headersSent;
  }

  get closed(): boolean {
    return this.#finished || this.res.destroyed;
  }

  addHeaders(headers: OutgoingHttpHeaders): void {
    // node merges these into the head writeHead sends.
    for (const [name, value] of Object.entries(headers)) {
      if (value !== undefined) this.res.setHeader(name, value);
    }
  }

  head(status: number, headers: OutgoingHttpHeaders, options: HeadOptions = {}): void {
    if (this.res.headersSent || this.closed) return;
    // A request whose body will not be read to its end: say that the connection closes.
    if (!this.req.complete && closesAfterReply(this.req)) headers.connection = "close";
    this.res.writeHead(status, headers);
    if (options.end === true) {
      this.#finished = true;
      this.res.end();
    }
  }

  write(chunk: Uint8Array): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (this.res.write(chunk)) return Promise.resolve();
    return drain(this.res);
  }

  end(chunk?: Uint8Array | string): void {
    if (this.#finished || this.closed) return;
    this.#finished = true;
    if (chunk === undefined) this.res.end();
    else this.res.end(chunk);
  }

  onAbort(listener: () => void): void {
    const check = () => {
      if (!this.res.writableFinished) listener();
    };
    if (this.res.destroyed) check();
    else this.res.once("close", check);
  }

  destroy(): void {
    this.#finished = true;
    this.res.destroy();
  }

  discardInput(): void {
    this.req.pause();
  }
}

/**
 * `respond` options; `sendDate` is read by node's `respond` (its compat layer's
 * `response.sendDate` goes through it) but missing from the typings.
 */
type RespondOptions = ServerStreamResponseOptions & { sendDate?: boolean };

// Node takes a head as a flat [name, value, ...] list since a 24.x release (nodejs/node#59455):
// that skips the null-prototype copy and the key walk an object costs (~4% of a unary gRPC
// call). Older versions reject a list before sending anything, so the first rejection switches
// to objects for good.
let rawHeads = true;

/** `stream.respond` with a flat header list where node takes one, else with an object. */
export function respond(
  stream: Pick<ServerHttp2Stream, "respond">,
  status: number,
  headers: OutgoingHttpHeaders,
  options: RespondOptions,
): void {
  if (rawHeads) {
    const raw = [":status", String(status)];
    for (const key in headers) {
      const value = headers[key];
      if (value === undefined || key === ":status") continue;
      if (Array.isArray(value)) for (const v of value) raw.push(key, v);
      else raw.push(key, String(value));
    }
    try {
      stream.respond(raw, options);
      return;
    } catch (err) {
      if ((err as { code?: unknown }).code !== "ERR_INVALID_ARG_TYPE") throw err;
      rawHeads = false;
    }
  }
  headers[":status"] = status;
  stream.respond(headers, options);
}

function drain(stream: NodeJS.WritableStream & { destroyed?: boolean }): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      stream.off("drain", done);
      stream.off("close", done);
      resolve();
    };
    stream.once("drain", done);
    stream.once("close", done);
  });
}
