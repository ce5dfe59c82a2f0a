// The Connect session: unary calls as plain HTTP bodies with the status in the HTTP code and a
// JSON error body, streams in envelopes that end with an end-stream JSON frame.
import type { Code } from "@connectrpc/connect";
import {
  codeToHttpStatus,
  endStreamToJson,
  errorToJsonBytes,
} from "@connectrpc/connect/protocol-connect";
import type { OutgoingHttpHeaders } from "node:http";
import { toConnectError } from "../../errors/connect.js";
import type { KratosError } from "../../errors/error.js";
import type { NodeHeader } from "../header.js";
import { encodeEnvelope, flagEndStream } from "./envelope.js";
import type { Compression } from "./envelope.js";
import type { Exchange } from "./exchange.js";
import type { ProtocolSession } from "./protocols.js";
import { addTrailers, endWith, header, plainHead, webHeaders } from "./session-wire.js";
import { readConnectTimeout } from "./timeout.js";

export class ConnectSession implements ProtocolSession {
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
