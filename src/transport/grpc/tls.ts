import type { Socket } from "node:net";
import tls from "node:tls";
import type { TLSSocket } from "node:tls";
import { KratosError } from "../../errors/error.js";
import { reasons } from "../../errors/reasons.js";
import { rawErrorResponse } from "../http1/client-error.js";

/**
 * TLS options of the gRPC port: node's `tls.TlsOptions` (`key`, `cert`, `ca`, `requestCert`,
 * `rejectUnauthorized`, `SNICallback`, ...) without the ones the port sets itself: ALPN (`h2`
 * and `http/1.1`) and the handshake time (`handshakeTimeout` of the server).
 *
 * For mTLS add the CA of the client certificates and ask for one:
 * `{ key, cert, ca: clientCa, requestCert: true }`. `rejectUnauthorized` then defaults to true:
 * a client without a certificate signed by `ca` fails its handshake and never reaches a
 * handler; with `rejectUnauthorized: false` it is let in, and the handler can read
 * `authorized` on the socket.
 */
export type GrpcTlsOptions = Omit<
  tls.TlsOptions,
  "ALPNProtocols" | "ALPNCallback" | "handshakeTimeout"
>;

/** What the first bytes of a connection to a TLS port are. */
export type FirstBytes = "tls" | "h2c" | "http1" | "garbage";

// Every TLS connection starts with a handshake record (content type 22, RFC 8446 5.1).
const handshakeRecord = 0x16;
const h2Preface = Buffer.from("PRI * HTTP/2.0");
// An HTTP/1.x request line starts with a method token: `GET `, `POST `, `OPTIONS `.
const http1RequestLine = /^[A-Z]{3,16} /;

/**
 * Tells TLS from plaintext by a connection's first bytes; undefined while too few to tell (an
 * upper-case letter could be an HTTP method or the HTTP/2 preface still).
 */
export function classifyFirstBytes(seen: Buffer): FirstBytes | undefined {
  const first = seen[0];
  if (first === undefined) return undefined;
  if (first === handshakeRecord) return "tls";
  const n = Math.min(seen.length, h2Preface.length);
  if (seen.subarray(0, n).equals(h2Preface.subarray(0, n))) {
    // `PRI ` is enough: no HTTP/1.1 method is called PRI.
    return n >= 4 ? "h2c" : undefined;
  }
  const text = seen.subarray(0, 17).toString("latin1");
  if (http1RequestLine.test(text)) return "http1";
  // Still letters: a method not finished yet.
  if (/^[A-Z]{1,16}$/.test(text)) return undefined;
  return "garbage";
}

// An empty SETTINGS (the server's preface), then GOAWAY(last stream 0, INADEQUATE_SECURITY)
// with a word of why: an h2c client learns that the port wants TLS instead of seeing a reset.
const h2Refusal = (() => {
  const debug = Buffer.from("this port serves TLS only");
  const goaway = Buffer.alloc(9 + 8 + debug.length);
  goaway.writeUIntBE(8 + debug.length, 0, 3);
  goaway[3] = 0x7; // GOAWAY
  goaway.writeUInt32BE(0, 9); // last stream id
  goaway.writeUInt32BE(0xc, 13); // INADEQUATE_SECURITY (RFC 9113, 7)
  debug.copy(goaway, 17);
  const settings = Buffer.from([0, 0, 0, 0x4, 0, 0, 0, 0, 0]);
  return Buffer.concat([settings, goaway]);
})();

// As Go's net/http answers plaintext HTTP on a TLS port, with the Kratos JSON body.
const http1Refusal = rawErrorResponse(
  new KratosError(
    400,
    reasons.tlsRequired,
    "this port serves TLS; the request was sent in plaintext",
  ),
);

/**
 * Answers plaintext sent to a TLS port in the client's own protocol (a 400 with reason
 * TLS_REQUIRED for HTTP/1.1, GOAWAY INADEQUATE_SECURITY for HTTP/2) and ends the connection;
 * garbage is cut at once. What the client still sends is read and dropped, so that its unread
 * bytes do not turn our close into a reset that would discard the answer.
 */
export function refusePlaintext(socket: Socket, kind: Exclude<FirstBytes, "tls">): void {
  if (kind === "garbage") {
    socket.destroy();
    return;
  }
  socket.end(kind === "h2c" ? h2Refusal : http1Refusal);
  socket.resume();
}

/**
 * The TLS half of the gRPC port: a node TLS server that never listens; the port hands it the
 * TCP connections that start with a TLS handshake. Node bounds the handshake (`handshakeTimeout`,
 * then `tlsClientError`), checks client certificates under mTLS, and emits the TLS socket to
 * `secure` with `alpnProtocol` set: `h2`, `http/1.1`, or false when the client offered none.
 */
export function createTlsFront(
  options: GrpcTlsOptions,
  handshakeTimeout: number,
  secure: (socket: TLSSocket) => void,
): tls.Server {
  const server = tls.createServer({
    ...options,
    // h2 first: a client offering both (connect-node, browsers) gets HTTP/2.
    ALPNProtocols: ["h2", "http/1.1"],
    handshakeTimeout,
  });
  // A failed handshake (no or a bad client certificate, a timeout, a reset, not TLS after the
  // first byte): node has the socket closed; nothing to tell the client in TLS it did not get.
  server.on("tlsClientError", (_err: Error, socket: TLSSocket) => {
    socket.destroy();
  });
  server.on("secureConnection", secure);
  return server;
}
