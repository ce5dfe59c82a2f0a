import type { IncomingMessage, ServerResponse } from "node:http";
import type { Context } from "../../context.js";
import { NodeHeader } from "../header.js";
import { serverTransport } from "../transport.js";
import type { Kind, Transporter } from "../transport.js";

/** The HTTP server transport: the Transporter plus what only HTTP has. */
export class HttpTransporter implements Transporter {
  readonly kind: Kind = "http";
  // Both created on first use: most calls read no header through the transport.
  #requestHeader: NodeHeader | undefined;
  #replyHeader: NodeHeader | undefined;
  /** The success status of the reply; handlers may set 201, 202, 204... (default 200). */
  status = 200;

  constructor(
    readonly endpoint: string,
    readonly operation: string,
    /** The route's path template as written: `/helloworld/{name}`. */
    readonly pathTemplate: string,
    readonly request: IncomingMessage,
    /** The node response: what plain handlers write to; protobuf routes reply through the server. */
    readonly response: ServerResponse,
  ) {}

  /** Headers of the request. */
  get requestHeader(): NodeHeader {
    return (this.#requestHeader ??= new NodeHeader(this.request.headers));
  }

  /** Headers of the reply. */
  get replyHeader(): NodeHeader {
    return (this.#replyHeader ??= new NodeHeader({}));
  }

  /** The reply headers, or undefined when no one set any. */
  get replyHeaderIfSet(): NodeHeader | undefined {
    return this.#replyHeader;
  }

  /** The request method. */
  get method(): string {
    return this.request.method ?? "GET";
  }
}

/** The HTTP transport of a server call, or undefined on other transports. */
export function httpTransport(ctx: Context): HttpTransporter | undefined {
  const t = serverTransport(ctx);
  return t instanceof HttpTransporter ? t : undefined;
}

/**
 * Sets the HTTP status of a successful reply (201 Created, 202, 204 No Content...). On other
 * transports it does nothing, so one service method serves both. A 204 reply has no body.
 */
export function setResponseStatus(ctx: Context, status: number): void {
  if (!Number.isInteger(status) || status < 200 || status > 299) {
    throw new RangeError(`success status must be 2xx, got ${status}`);
  }
  const t = httpTransport(ctx);
  if (t !== undefined) t.status = status;
}
