import { STATUS_CODES } from "node:http";
import { KratosError } from "../../errors/error.js";
import { toHttpError } from "../../errors/http.js";
import { reasons } from "../../errors/reasons.js";

/**
 * The error a failure of node's HTTP/1.1 parser stands for (a `clientError`: malformed request,
 * headers too large, headers or body not received in time), by node's error code.
 */
export function clientErrorOf(err: Error & { code?: string }): KratosError {
  switch (err.code) {
    case "HPE_HEADER_OVERFLOW":
      return new KratosError(431, reasons.headersTooLarge, "request header fields too large");
    case "HPE_CHUNK_EXTENSIONS_OVERFLOW":
      return new KratosError(413, reasons.payloadTooLarge, "chunk extensions too large");
    case "ERR_HTTP_REQUEST_TIMEOUT":
      return new KratosError(408, reasons.requestTimeout, "request not received in time");
    default:
      return new KratosError(400, reasons.codec, `malformed HTTP request (${err.code ?? "?"})`);
  }
}

/**
 * The whole response to a parser failure, as raw HTTP/1.1: the Kratos JSON body (node's own
 * answer is an empty 400, 408 or 431, which a Kratos client cannot decode) and
 * `Connection: close`, since the rest of the connection's bytes cannot be trusted.
 */
export function clientErrorResponse(err: Error & { code?: string }): string {
  return rawErrorResponse(clientErrorOf(err));
}

/** `err` as a raw HTTP/1.1 response that closes its connection, with the Kratos JSON body. */
export function rawErrorResponse(err: KratosError): string {
  const { status, body } = toHttpError(err);
  return (
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ""}\r\n` +
    "Connection: close\r\n" +
    "Content-Type: application/json\r\n" +
    `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n` +
    body
  );
}

/** Socket errors that mean the peer is gone: nothing to answer. */
export function isPeerGone(err: Error & { code?: string }): boolean {
  return err.code === "ECONNRESET" || err.code === "EPIPE" || err.code === "ECONNABORTED";
}
