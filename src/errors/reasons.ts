/**
 * The reasons of errors that kratos-ts itself raises, in one catalog (the README lists them, and
 * a test checks that it does). Service errors use their own enums.
 */
export const reasons = {
  /** 400: a body, path or query value that cannot be decoded, or an unsupported content type. */
  codec: "CODEC",
  /** 404: no route matches the path. */
  notFound: "NOT_FOUND",
  /** 405: the path exists, but not for this method (the `Allow` header lists the methods). */
  methodNotAllowed: "METHOD_NOT_ALLOWED",
  /** 413: the request body is larger than the server's limit. */
  payloadTooLarge: "PAYLOAD_TOO_LARGE",
  /** 408: the request's headers or body did not arrive within the server's time limit. */
  requestTimeout: "REQUEST_TIMEOUT",
  /** 431: the request's header fields are larger than the server accepts. */
  headersTooLarge: "HEADERS_TOO_LARGE",
  /** 503: a client found no node to call (Go Kratos's selector reason). */
  nodeNotFound: "NODE_NOT_FOUND",
  /** 503: etcd did not answer a lock, election or observer call in time (kratos-ts/sync). */
  etcdUnavailable: "ETCD_UNAVAILABLE",
  /** 503: the etcd lease behind a held lock or a leadership expired or was revoked (kratos-ts/sync). */
  sessionLost: "SESSION_LOST",
  /** 504: a lock stayed held by others for the whole wait of `acquire` (kratos-ts/sync). */
  lockTimeout: "LOCK_TIMEOUT",
  /** 504: a campaign was not elected within its wait (kratos-ts/sync). */
  electionTimeout: "ELECTION_TIMEOUT",
  /** 500: a handler failed with an error that carries no status (the recovery middleware). */
  unknown: "UNKNOWN",
  /** 400: the request breaks its message's buf.validate rules (the validate middleware). */
  validator: "VALIDATOR",
  /** 429: the server sheds load (the ratelimit middleware). */
  rateLimit: "RATELIMIT",
  /** 429: a caller exceeded a configured rate limit (the quota middleware). */
  rateLimited: "RATE_LIMITED",
  /** 429: a bulkhead's running calls and queue are full, or the call waited too long (the bulkhead middleware). */
  bulkheadFull: "BULKHEAD_FULL",
  /**
   * 503: a circuit breaker rejected the call: the client's (the call was not sent) or the
   * server's (the operation is failing; the handler did not run).
   */
  circuitBreaker: "CIRCUITBREAKER",
  /** 401: a missing, malformed, expired or wrongly signed token (the jwt middleware). */
  unauthorized: "UNAUTHORIZED",
  /** 403: a verified token lacks a claim or scope an authorisation rule requires (the authz middleware). */
  forbidden: "FORBIDDEN",
  /** The default reason of an abort injected by a governance rule's `fault` (any code). */
  faultInjected: "FAULT_INJECTED",
  /** 403: a CORS preflight from an origin the server's `cors.origins` does not allow. */
  originNotAllowed: "ORIGIN_NOT_ALLOWED",
  /** 400: plaintext HTTP sent to a port that serves TLS (the gRPC port with `tls`). */
  tlsRequired: "TLS_REQUIRED",
  /** 503: the message broker did not take a publish (or a connect, or a subscribe). */
  brokerUnavailable: "BROKER_UNAVAILABLE",
} as const;

/** One of the framework's reasons. */
export type FrameworkReason = (typeof reasons)[keyof typeof reasons];
