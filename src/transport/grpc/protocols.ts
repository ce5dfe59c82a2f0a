import {
  codeToHttpStatus,
  endStreamToJson,
  errorToJsonBytes,
} from "@connectrpc/connect/protocol-connect";
import { trailerSerialize } from "@connectrpc/connect/protocol-grpc-web";
import type { OutgoingHttpHeaders } from "node:http";
import type { Code } from "@connectrpc/connect";
import { toConnectError } from "../../errors/connect.js";
import type { KratosError } from "../../errors/error.js";
import { toGrpcStatus } from "../../errors/grpc.js";
import type { NodeHeader } from "../header.js";
import {
  acceptedEncodings,
  compressionOf,
  encodeEnvelope,
  flagEndStream,
  flagTrailers,
} from "./envelope.js";
import type { Compression } from "./envelope.js";
import type { Exchange, HeadOptions } from "./exchange.js";
import { readConnectTimeout, readGrpcTimeout } from "./timeout.js";
import type { RpcProtocol } from "./transporter.js";

/** How one call is framed on the wire, chosen from its request headers. */
export interface ProtocolSession {
  readonly protocol: RpcProtocol;
  /** Message encoding. */
  readonly format: "proto" | "json";
  /** Whether messages travel in envelopes (everything but Connect unary). */
  readonly enveloped: boolean;
  /** Compression of the request messages. */
  readonly compression: Compression;
  /** An encoding the peer used that we do not support; the call fails with UNIMPLEMENTED. */
  readonly unsupportedEncoding: string | undefined;
  /** The deadline the client asked for, in ms. */
  readonly timeoutMs: number | undefined;
  /** A protocol header the client got wrong (a malformed timeout): the call fails with it. */
  readonly badHeader: KratosError | undefined;
  /** Whether the protocol can carry this method kind. */
  readonly streaming: boolean;
  /** How a successful head is sent (gRPC: trailers to come, no date). */
  readonly headOptions: HeadOptions;
  /** Content type and protocol headers of a successful response head. */
  headHeaders(): OutgoingHttpHeaders;
  /**
   * Ends a call whose head is sent: success when `error` is undefined. `last` is a final
   * message frame to send with the end (one write instead of two).
   */
  end(
    exchange: Exchange,
    error: KratosError | undefined,
    trailers: NodeHeader | undefined,
    last?: Uint8Array,
  ): void;
  /** Fails a call whose head is not sent yet. */
  fail(
    exchange: Exchange,
    error: KratosError,
    headers: OutgoingHttpHeaders,
    trailers: NodeHeader | undefined,
  ): void;
}

/** Why a request cannot be served by any protocol: an HTTP status and a message. */
export class UnsupportedRequest extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const grpcType = /^application\/grpc(?:\+(proto|json))?\s*(?:;|$)/i;
const grpcWebType = /^application\/grpc-web(-text)?(?:\+(proto|json))?\s*(?:;|$)/i;
const connectStreamType = /^application\/connect\+(proto|json)\s*(?:;|$)/i;
const connectUnaryType = /^application\/(proto|json)\s*(?:;|$)/i;

/** Detects the protocol of a request; throws UnsupportedRequest when none fits. */
export function detectProtocol(exchange: Exchange): ProtocolSession {
  const contentType = exchange.headers["content-type"] ?? "";
  // The common cases first, without a regular expression: gRPC, and Connect unary.
  if (
    (contentType === "application/json" || contentType === "application/proto") &&
    exchange.method === "POST"
  ) {
    return connectUnary(exchange, contentType === "application/json" ? "json" : "proto");
  }
  const plainGrpc = contentType === "application/grpc" || contentType === "application/grpc+proto";
  let m = plainGrpc ? null : grpcType.exec(contentType);
  if (plainGrpc || m !== null) {
    if (!exchange.http2) throw new UnsupportedRequest(505, "gRPC needs HTTP/2");
    return new GrpcSession(formatOf(m?.[1]), exchange);
  }
  m = grpcWebType.exec(contentType);
  if (m !== null) {
    if (m[1] !== undefined) {
      throw new UnsupportedRequest(415, "grpc-web-text is not supported; use binary gRPC-Web");
    }
    return new GrpcWebSession(formatOf(m[2]), exchange);
  }
  m = connectStreamType.exec(contentType);
  if (m !== null) {
    return new ConnectSession(
      true,
      formatOf(m[1]),
      compressionFrom(header(exchange, "connect-content-encoding")),
      exchange,
    );
  }
  if (exchange.method === "GET") {
    const params = new URLSearchParams(exchange.search);
    if (params.has("message")) {
      const encoding = params.get("encoding");
      if (encoding !== "json" && encoding !== "proto") {
        throw new UnsupportedRequest(
          415,
          `unsupported encoding "${encoding ?? ""}" in a Connect GET`,
        );
      }
      return new ConnectSession(
        false,
        encoding,
        compressionFrom(params.get("compression") ?? undefined),
        exchange,
      );
    }
  }
  m = connectUnaryType.exec(contentType);
  if (m !== null && exchange.method === "POST") {
    return connectUnary(exchange, formatOf(m[1]));
  }
  throw new UnsupportedRequest(415, `unsupported content type "${contentType}"`);
}

/** The message format a content type's subtype names; media types ignore case. */
function formatOf(subtype: string | undefined): "proto" | "json" {
  return subtype?.toLowerCase() === "json" ? "json" : "proto";
}

function connectUnary(exchange: Exchange, format: "proto" | "json"): ConnectSession {
  return new ConnectSession(
    false,
    format,
    compressionFrom(header(exchange, "content-encoding")),
    exchange,
  );
}

function header(exchange: Exchange, name: string): string | undefined {
  const v = exchange.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** The compression a header names: supported, or the unsupported name. */
function compressionFrom(name: string | undefined): {
  compression: Compression;
  unsupported: string | undefined;
} {
  const c = compressionOf(name);
  return c === undefined
    ? { compression: "identity", unsupported: name }
    : { compression: c, unsupported: undefined };
}

/** `grpc-message` is percent-encoded: UTF-8 bytes outside 0x20..0x7e, and "%" itself. */
export function encodeGrpcMessage(message: string): string {
  let out = "";
  for (const byte of Buffer.from(message, "utf8")) {
    out +=
      byte >= 0x20 && byte <= 0x7e && byte !== 0x25
        ? String.fromCharCode(byte)
        : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/** Copies trailer metadata into `out` (nothing to do for the usual call without any). */
function addTrailers(
  out: OutgoingHttpHeaders,
  trailers: NodeHeader | undefined,
): OutgoingHttpHeaders {
  if (trailers !== undefined) for (const key of trailers.keys()) out[key] = trailers.values(key);
  return out;
}

/** gRPC status headers of an error (or OK). */
function grpcStatusHeaders(
  error: KratosError | undefined,
  out: OutgoingHttpHeaders = {},
): OutgoingHttpHeaders {
  if (error === undefined) {
    out["grpc-status"] = "0";
    return out;
  }
  const status = toGrpcStatus(error);
  out["grpc-status"] = String(status.code);
  out["grpc-message"] = encodeGrpcMessage(status.message);
  if (status.details.byteLength > 0) {
    out["grpc-status-details-bin"] = Buffer.from(status.details)
      .toString("base64")
      .replace(/=+$/, "");
  }
  return out;
}

/** What the gRPC and gRPC-Web sessions share: envelopes, every method kind, grpc-* headers. */
abstract class EnvelopedSession {
  readonly enveloped = true;
  readonly streaming = true;
  readonly compression: Compression;
  readonly unsupportedEncoding: string | undefined;
  readonly timeoutMs: number | undefined;
  readonly badHeader: KratosError | undefined;
  constructor(
    readonly format: "proto" | "json",
    exchange: Exchange,
  ) {
    const encoding = compressionFrom(header(exchange, "grpc-encoding"));
    this.compression = encoding.compression;
    this.unsupportedEncoding = encoding.unsupported;
    ({ timeoutMs: this.timeoutMs, badHeader: this.badHeader } = readGrpcTimeout(
      header(exchange, "grpc-timeout"),
    ));
  }
}

// gRPC heads leave room for trailers and carry no date (see HeadOptions.date).
const grpcHead: HeadOptions = { trailers: true, date: false };
const plainHead: HeadOptions = {};

class GrpcSession extends EnvelopedSession implements ProtocolSession {
  readonly protocol = "grpc" as const;
  readonly headOptions = grpcHead;

  headHeaders(): OutgoingHttpHeaders {
    return {
      "content-type": this.format === "json" ? "application/grpc+json" : "application/grpc+proto",
    };
  }

  end(
    exchange: Exchange,
    error: KratosError | undefined,
    trailers: NodeHeader | undefined,
    last?: Uint8Array,
  ): void {
    exchange.end(last, grpcStatusHeaders(error, addTrailers({}, trailers)));
  }

  fail(
    exchange: Exchange,
    error: KratosError,
    headers: OutgoingHttpHeaders,
    trailers: NodeHeader | undefined,
  ): void {
    // Trailers-only: the status travels in the one header block.
    const all = addTrailers(
      { ...headers, ...this.headHeaders(), "grpc-accept-encoding": acceptedEncodings },
      trailers,
    );
    exchange.head(200, grpcStatusHeaders(error, all), { end: true, date: false });
  }
}

class GrpcWebSession extends EnvelopedSession implements ProtocolSession {
  readonly protocol = "grpc-web" as const;
  readonly headOptions = plainHead;

  headHeaders(): OutgoingHttpHeaders {
    return {
      "content-type":
        this.format === "json" ? "application/grpc-web+json" : "application/grpc-web+proto",
    };
  }

  end(
    exchange: Exchange,
    error: KratosError | undefined,
    trailers: NodeHeader | undefined,
    last?: Uint8Array,
  ): void {
    const block = webHeaders(grpcStatusHeaders(error, addTrailers({}, trailers)));
    endWith(exchange, last, encodeEnvelope(flagTrailers, trailerSerialize(block)));
  }

  fail(
    exchange: Exchange,
    error: KratosError,
    headers: OutgoingHttpHeaders,
    trailers: NodeHeader | undefined,
  ): void {
    exchange.head(200, {
      ...headers,
      ...this.headHeaders(),
      "grpc-accept-encoding": acceptedEncodings,
    });
    this.end(exchange, error, trailers);
  }
}

class ConnectSession implements ProtocolSession {
  readonly protocol = "connect" as const;
  readonly headOptions = plainHead;
  readonly compression: Compression;
  readonly unsupportedEncoding: string | undefined;
  readonly timeoutMs: number | undefined;
  readonly badHeader: KratosError | undefined;
  constructor(
    readonly streaming: boolean,
    readonly format: "proto" | "json",
    encoding: { compression: Compression; unsupported: string | undefined },
    exchange: Exchange,
  ) {
    this.compression = encoding.compression;
    this.unsupportedEncoding = encoding.unsupported;
    ({ timeoutMs: this.timeoutMs, badHeader: this.badHeader } = readConnectTimeout(
      header(exchange, "connect-timeout-ms"),
    ));
  }

  get enveloped(): boolean {
    return this.streaming;
  }

  headHeaders(): OutgoingHttpHeaders {
    const type = this.streaming
      ? `application/connect+${this.format}`
      : `application/${this.format}`;
    return { "content-type": type };
  }

  end(
    exchange: Exchange,
    error: KratosError | undefined,
    trailers: NodeHeader | undefined,
    last?: Uint8Array,
  ): void {
    if (!this.streaming) {
      // Unary Connect writes its whole reply at once (see call.ts); only errors come here.
      exchange.end(last);
      return;
    }
    const metadata = webHeaders(addTrailers({}, trailers));
    const json = endStreamToJson(
      metadata,
      error === undefined ? undefined : toConnectError(error),
      undefined,
    );
    endWith(
      exchange,
      last,
      encodeEnvelope(flagEndStream, new TextEncoder().encode(JSON.stringify(json))),
    );
  }

  fail(
    exchange: Exchange,
    error: KratosError,
    headers: OutgoingHttpHeaders,
    trailers: NodeHeader | undefined,
  ): void {
    if (this.streaming) {
      exchange.head(200, { ...headers, ...this.headHeaders() });
      this.end(exchange, error, trailers);
      return;
    }
    const connectError = toConnectError(error);
    const body = errorToJsonBytes(connectError, undefined);
    exchange.head(
      connectHttpStatus(error, connectError.code),
      connectUnaryTrailers(
        { ...headers, "content-type": "application/json", "content-length": body.byteLength },
        trailers,
      ),
    );
    exchange.end(body);
  }
}

/**
 * The HTTP status of a Connect unary error: the code's status, except that a client error
 * stays a 4xx when its code has no 4xx twin (a 415 is UNIMPLEMENTED, which Connect sends as
 * 501): the client's mistake is not answered as the server's.
 */
function connectHttpStatus(error: KratosError, code: Code): number {
  const status = codeToHttpStatus(code);
  return status >= 500 && error.code >= 400 && error.code <= 499 ? error.code : status;
}

/** Connect unary carries trailers as `trailer-` prefixed headers. */
export function connectUnaryTrailers(
  out: OutgoingHttpHeaders,
  trailers: NodeHeader | undefined,
): OutgoingHttpHeaders {
  if (trailers !== undefined)
    for (const key of trailers.keys()) out[`trailer-${key}`] = trailers.values(key);
  return out;
}

/** Web Headers from node headers (connect's trailer and end-stream helpers take them). */
function webHeaders(headers: OutgoingHttpHeaders): Headers {
  const out = new Headers();
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined) continue;
    for (const item of Array.isArray(v) ? v : [String(v)]) out.append(k, item);
  }
  return out;
}

/** Ends an exchange with a closing frame, after the last message frame when there is one. */
function endWith(exchange: Exchange, last: Uint8Array | undefined, frame: Buffer): void {
  exchange.end(last === undefined ? frame : Buffer.concat([last, frame]));
}
