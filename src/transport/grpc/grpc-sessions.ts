// The gRPC and gRPC-Web sessions: enveloped messages in every method kind, status in grpc-*
// headers (HTTP/2 trailers for gRPC, a trailer frame for gRPC-Web).
import { trailerSerialize } from "@connectrpc/connect/protocol-grpc-web";
import type { OutgoingHttpHeaders } from "node:http";
import type { KratosError } from "../../errors/error.js";
import { toGrpcStatus } from "../../errors/grpc.js";
import type { NodeHeader } from "../header.js";
import { acceptedEncodings, encodeEnvelope, flagTrailers } from "./envelope.js";
import type { Compression } from "./envelope.js";
import type { Exchange, HeadOptions } from "./exchange.js";
import type { ProtocolSession } from "./protocols.js";
import {
  addTrailers,
  compressionFrom,
  endWith,
  header,
  plainHead,
  webHeaders,
} from "./session-wire.js";
import { readGrpcTimeout } from "./timeout.js";

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

export class GrpcSession extends EnvelopedSession implements ProtocolSession {
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

export class GrpcWebSession extends EnvelopedSession implements ProtocolSession {
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
