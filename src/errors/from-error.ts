import { ConnectError } from "@connectrpc/connect";
import { KratosError } from "./error.js";
import { fromConnectError } from "./connect.js";
import { fromGrpcStatus } from "./grpc.js";

/** The code of errors that are not KratosErrors (Kratos `UnknownCode`). */
export const unknownCode = 500;
/** The reason of errors that are not KratosErrors (Kratos `UnknownReason`). */
export const unknownReason = "";

// Cause chains are walked to find a wrapped KratosError; a bound keeps cycles harmless.
const maxCauseDepth = 16;

/**
 * Converts anything thrown into a KratosError; never throws.
 *
 * - a KratosError (also one wrapped as the `cause` of other errors) is returned as it is;
 * - a ConnectError or a @grpc/grpc-js error is read through the gRPC mapping (code, ErrorInfo);
 * - an `AbortError` becomes 499 and a `TimeoutError` 504, both with an empty reason;
 * - anything else becomes 500 with an empty reason, its message, and the value as the cause.
 */
export function fromError(err: unknown): KratosError {
  try {
    return convert(err);
  } catch (cause) {
    // A throwing getter or proxy: still an error, never a crash.
    return new KratosError(unknownCode, unknownReason, "unknown error", { cause });
  }
}

function convert(err: unknown): KratosError {
  let current: unknown = err;
  for (let depth = 0; depth < maxCauseDepth && current instanceof Error; depth++) {
    if (current instanceof KratosError) return current;
    current = current.cause;
  }
  if (err instanceof ConnectError) return fromConnectError(err);
  if (isGrpcJsError(err)) return fromGrpcJsError(err);
  if (err instanceof Error) {
    const code = err.name === "AbortError" ? 499 : err.name === "TimeoutError" ? 504 : unknownCode;
    return new KratosError(code, unknownReason, err.message, { cause: err });
  }
  if (typeof err === "string") return new KratosError(unknownCode, unknownReason, err);
  return new KratosError(unknownCode, unknownReason, "unknown error", { cause: err });
}

/** The shape of @grpc/grpc-js's ServiceError, recognised without depending on grpc-js. */
interface GrpcJsError extends Error {
  code: number;
  details: string;
  metadata: { get(key: string): unknown[] };
}

function isGrpcJsError(err: unknown): err is GrpcJsError {
  if (!(err instanceof Error)) return false;
  const e = err as Partial<GrpcJsError>;
  return (
    typeof e.code === "number" &&
    typeof e.details === "string" &&
    typeof e.metadata === "object" &&
    typeof e.metadata.get === "function"
  );
}

function fromGrpcJsError(err: GrpcJsError): KratosError {
  const raw = err.metadata.get("grpc-status-details-bin")[0];
  const details = raw instanceof Uint8Array ? raw : undefined;
  return fromGrpcStatus({ code: err.code, message: err.details, details }).withCause(err);
}

/** The HTTP code of `err`: 200 for null/undefined (no error), else `fromError(err).code`. */
export function code(err: unknown): number {
  return err === null || err === undefined ? 200 : fromError(err).code;
}

/** The reason of `err`: "" for null/undefined, else `fromError(err).reason`. */
export function reason(err: unknown): string {
  return err === null || err === undefined ? "" : fromError(err).reason;
}

/** True when `err` converts to an error with the same code AND reason as `target`. */
export function is(err: unknown, target: KratosError): boolean {
  return err !== null && err !== undefined && fromError(err).is(target);
}
