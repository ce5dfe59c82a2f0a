import type { OutgoingHttpHeaders } from "node:http";
import type { KratosError } from "../../errors/error.js";
import type { NodeHeader } from "../header.js";
import type { Compression } from "./envelope.js";
import type { Exchange, HeadOptions } from "./exchange.js";
import { ConnectSession } from "./connect-session.js";
import { GrpcSession, GrpcWebSession } from "./grpc-sessions.js";
import { compressionFrom, header } from "./session-wire.js";
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
