/**
 * Failures that happen before a request reaches a server, so that sending it to another node
 * cannot run it twice: the connection was refused, the HTTP/2 session was already going away or
 * gone when the stream was opened, or the server refused the stream (REFUSED_STREAM guarantees
 * it did no work). A node that stopped or crashed since the client last heard of it fails
 * like this until the registry says it left.
 */
const notSentCodes: ReadonlySet<string> = new Set([
  "ECONNREFUSED",
  "ERR_HTTP2_GOAWAY_SESSION",
  "ERR_HTTP2_INVALID_SESSION",
]);

// Errors a client marked itself, from what only it could see (a reused keep-alive socket reset).
const marked = new WeakSet<object>();

// Cause chains are walked to find the socket error under the client's wrappers; bounded.
const maxCauseDepth = 16;

/** Marks `err` as a failure that happened before the request was processed; returns it. */
export function markNotSent<E extends object>(err: E): E {
  marked.add(err);
  return err;
}

/** Whether `err` (or one of its causes) says the request never reached a server. */
export function notSent(err: unknown): boolean {
  let current: unknown = err;
  for (let depth = 0; depth < maxCauseDepth; depth++) {
    if (typeof current !== "object" || current === null) return false;
    if (marked.has(current)) return true;
    const { code, message, cause } = current as {
      code?: unknown;
      message?: unknown;
      cause?: unknown;
    };
    if (typeof code === "string" && notSentCodes.has(code)) return true;
    if (
      code === "ERR_HTTP2_STREAM_ERROR" &&
      typeof message === "string" &&
      message.includes("NGHTTP2_REFUSED_STREAM")
    ) {
      return true;
    }
    current = cause;
  }
  return false;
}
