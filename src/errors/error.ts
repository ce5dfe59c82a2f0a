/** Extra context of an error, sent to clients with it (string values only, as in Kratos). */
export type ErrorMetadata = Readonly<Record<string, string>>;

/** Optional parts of a {@link KratosError}. */
export interface KratosErrorOptions {
  /** Sent to clients with the error. Default: none. */
  metadata?: Record<string, string>;
  /** What caused the error, for logs; never sent to clients. */
  cause?: unknown;
}

/** The error as it travels: the body of an HTTP error response, errors.Status in proto. */
export interface ErrorStatus {
  code: number;
  reason: string;
  message: string;
  metadata: Record<string, string>;
}

// A global symbol, so that `instanceof KratosError` holds for errors made by another copy of
// this module (two installed versions, or ESM and a bundled copy), as it does for ConnectError.
const brand = Symbol.for("kratos-ts/KratosError");

/**
 * The one error type of kratos-ts. Every error a handler throws becomes one (see
 * {@link fromError}); transports convert it to the HTTP JSON body, a gRPC status with
 * `google.rpc.ErrorInfo`, or a ConnectError, and back.
 *
 * Instances are immutable: `withMetadata` and `withCause` return copies.
 */
export class KratosError extends Error {
  /** An HTTP status code (400, 404, 503, ...), also when the error travels over gRPC. */
  readonly code: number;
  /** A machine-readable, stable cause, usually an error enum value name. May be empty. */
  readonly reason: string;
  /** Sent to clients with the error. */
  readonly metadata: ErrorMetadata;

  constructor(code: number, reason: string, message: string, options: KratosErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.reason = reason;
    this.metadata = Object.freeze({ ...options.metadata });
  }

  /** True for any KratosError, including ones created by another copy of this module. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (this !== KratosError) {
      // Subclasses keep the ordinary prototype check.
      return Function.prototype[Symbol.hasInstance].call(this, value);
    }
    return (
      typeof value === "object" &&
      value !== null &&
      (value as { [brand]?: unknown })[brand] === true
    );
  }

  /** A copy of this error whose metadata is `metadata` (replacing the old one, as in Kratos). */
  withMetadata(metadata: Record<string, string>): KratosError {
    return new KratosError(this.code, this.reason, this.message, { metadata, cause: this.cause });
  }

  /** A copy of this error with `cause` attached. */
  withCause(cause: unknown): KratosError {
    return new KratosError(this.code, this.reason, this.message, {
      metadata: this.metadata,
      cause,
    });
  }

  /** True when `target` is a KratosError with the same code and reason. */
  is(target: unknown): boolean {
    return (
      target instanceof KratosError && target.code === this.code && target.reason === this.reason
    );
  }

  /** The wire shape: `{code, reason, message, metadata}`. */
  toStatus(): ErrorStatus {
    return {
      code: this.code,
      reason: this.reason,
      message: this.message,
      metadata: { ...this.metadata },
    };
  }

  /** `JSON.stringify(err)` gives the Kratos HTTP error body. */
  toJSON(): ErrorStatus {
    return this.toStatus();
  }
}

Object.defineProperty(KratosError.prototype, "name", { value: "KratosError", writable: true });
Object.defineProperty(KratosError.prototype, brand, { value: true });
