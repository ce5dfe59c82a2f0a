// How the gRPC client tells a broken or refused connection from an error the server sent.
import { Code, ConnectError } from "@connectrpc/connect";
import { KratosError } from "../../errors/error.js";

// How connect-node reports a connection that broke under a call: Code.Aborted with the socket
// or stream error as the cause, or Code.Canceled for the RST_STREAM CANCEL that Node gives the
// streams of a session that died. To a client whose own signal did not fire, both mean the
// node went away: not a conflict (Aborted maps to 409) nor a caller that gave up (499), but 503.
const lostConnectionCodes: ReadonlySet<string> = new Set([
  "ECONNRESET",
  "EPIPE",
  "ERR_STREAM_DESTROYED",
  "ERR_HTTP2_INVALID_STREAM",
  "ERR_HTTP2_STREAM_ERROR",
  "ERR_HTTP2_SESSION_ERROR",
]);

// Node's codes for a TLS connection that could not be set up: OpenSSL alerts and failures
// (`ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED`: mTLS without a client certificate) and
// certificate checks (`DEPTH_ZERO_SELF_SIGNED_CERT`, `ERR_TLS_CERT_ALTNAME_INVALID`, ...).
const tlsFailure = /^ERR_(SSL|TLS)_|CERT|_SIGNATURE$|ISSUER/;

/**
 * A 503 for a connection that broke mid-call or whose TLS handshake failed (connect-node says
 * INTERNAL; grpc-go and grpc-js say UNAVAILABLE); other errors as they are.
 */
export function connectionLost(err: unknown, signal: AbortSignal, host: string): unknown {
  if (signal.aborted || !(err instanceof ConnectError)) return err;
  if (causeCodes(err).some((code) => tlsFailure.test(code))) {
    return new KratosError(503, "", `TLS with ${host} failed: ${err.rawMessage}`, { cause: err });
  }
  const lost =
    err.code === Code.Canceled ||
    (err.code === Code.Aborted && causeCodes(err).some((code) => lostConnectionCodes.has(code)));
  if (!lost) return err;
  return new KratosError(503, "", `connection to ${host} lost: ${err.rawMessage}`, { cause: err });
}

/** The `code`s of the Node errors in the cause chain of `err`. */
function causeCodes(err: Error): string[] {
  const codes: string[] = [];
  let cause: unknown = err.cause;
  for (let depth = 0; depth < 16 && cause instanceof Error; depth++) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (code !== undefined) codes.push(code);
    cause = cause.cause;
  }
  return codes;
}
