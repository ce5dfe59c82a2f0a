import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { anyIs, anyPack, anyUnpack } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import { ErrorInfoSchema } from "../gen/google/rpc/error_details_pb.js";
import type { ErrorInfo } from "../gen/google/rpc/error_details_pb.js";
import { StatusSchema } from "../gen/google/rpc/status_pb.js";
import { KratosError } from "./error.js";

// The table of Go Kratos (transport/http/status), so both sides agree on the wire, plus the
// client errors kratos-ts raises at the transport that Kratos never produces itself and would
// send as UNKNOWN (a server error): 413 and 431 are RESOURCE_EXHAUSTED, 408 (a request not
// received in time) DEADLINE_EXCEEDED, 415 (a content type or protocol the method does not take)
// UNIMPLEMENTED. Their HTTP code still round-trips (see httpCodeMetadataKey).
const grpcByHttp: ReadonlyMap<number, Code> = new Map([
  [408, Code.DeadlineExceeded],
  [413, Code.ResourceExhausted],
  [415, Code.Unimplemented],
  [431, Code.ResourceExhausted],
  [400, Code.InvalidArgument],
  [401, Code.Unauthenticated],
  [403, Code.PermissionDenied],
  [404, Code.NotFound],
  [409, Code.Aborted],
  [429, Code.ResourceExhausted],
  [499, Code.Canceled],
  [500, Code.Internal],
  [501, Code.Unimplemented],
  [503, Code.Unavailable],
  [504, Code.DeadlineExceeded],
]);

const httpByGrpc: ReadonlyMap<number, number> = new Map([
  [0, 200], // OK
  [Code.Canceled, 499],
  [Code.Unknown, 500],
  [Code.InvalidArgument, 400],
  [Code.DeadlineExceeded, 504],
  [Code.NotFound, 404],
  [Code.AlreadyExists, 409],
  [Code.PermissionDenied, 403],
  [Code.Unauthenticated, 401],
  [Code.ResourceExhausted, 429],
  [Code.FailedPrecondition, 400],
  [Code.Aborted, 409],
  [Code.OutOfRange, 400],
  [Code.Unimplemented, 501],
  [Code.Internal, 500],
  [Code.Unavailable, 503],
  [Code.DataLoss, 500],
]);

/**
 * The ErrorInfo metadata key that carries the HTTP code of an error whose code has no gRPC twin
 * (422, 412, 502, ...). It is added only for such codes, so the wire stays exactly Go Kratos's
 * for the others, and removed again on receipt: a round trip through gRPC keeps the code.
 */
export const httpCodeMetadataKey = "kratos-http-code";

/** The gRPC status code for an HTTP code (`Unknown` when there is no twin; 200 is OK = 0). */
export function grpcCodeFromHttp(httpCode: number): Code | 0 {
  if (httpCode === 200) return 0;
  return grpcByHttp.get(httpCode) ?? Code.Unknown;
}

/** The HTTP code for a gRPC status code (500 for codes outside the gRPC table). */
export function httpCodeFromGrpc(grpcCode: number): number {
  return httpByGrpc.get(grpcCode) ?? 500;
}

/** A gRPC status as the transports send it: `grpc-status`, `grpc-message`, `grpc-status-details-bin`. */
export interface GrpcStatus {
  /** The gRPC status code. */
  code: number;
  /** The status message (`grpc-message`, before percent-encoding). */
  message: string;
  /**
   * A serialized google.rpc.Status holding a google.rpc.ErrorInfo (`grpc-status-details-bin`);
   * empty for a bare status (see {@link bareStatus}), which is sent without the header.
   */
  details: Uint8Array;
}

// Errors that travel as a bare gRPC status: code and message, no google.rpc.Status details.
const bare = new WeakSet<KratosError>();

/**
 * Marks `err` to travel without details: no `grpc-status-details-bin`, no Connect error details.
 * For the kit's twins of grpc-go's own services only (health answers an unknown service with a
 * bare NOT_FOUND, as grpc-go does). The errors of handlers always carry an ErrorInfo, as Go
 * Kratos's errors do, even with an empty reason; a copy (`withMetadata`) is not bare.
 */
export function bareStatus(err: KratosError): KratosError {
  bare.add(err);
  return err;
}

/** Whether `err` travels without details (see {@link bareStatus}). */
export function isBareStatus(err: KratosError): boolean {
  return bare.has(err);
}

/** The `google.rpc.ErrorInfo` detail Go Kratos puts in (and reads from) every gRPC error. */
export function errorInfoOf(err: KratosError): {
  reason: string;
  metadata: Record<string, string>;
} {
  const metadata: Record<string, string> = { ...err.metadata };
  if (httpCodeFromGrpc(grpcCodeFromHttp(err.code)) !== err.code) {
    metadata[httpCodeMetadataKey] = String(err.code);
  }
  return { reason: err.reason, metadata };
}

/** Converts an error to the gRPC status that carries it. */
export function toGrpcStatus(err: KratosError): GrpcStatus {
  const code = grpcCodeFromHttp(err.code);
  if (bare.has(err)) return { code, message: err.message, details: new Uint8Array(0) };
  const info = create(ErrorInfoSchema, errorInfoOf(err));
  const status = create(StatusSchema, {
    code,
    message: err.message,
    details: [anyPack(ErrorInfoSchema, info)],
  });
  return { code, message: err.message, details: toBinary(StatusSchema, status) };
}

/** What {@link fromGrpcStatus} reads: the code, and optionally the message and details. */
export interface GrpcStatusInput {
  code: number;
  message?: string | undefined;
  /** A serialized google.rpc.Status (`grpc-status-details-bin`), if the peer sent one. */
  details?: Uint8Array | undefined;
}

/**
 * Converts a received gRPC status back to the error: the code through the Kratos table, the reason
 * and metadata from ErrorInfo (empty reason without one). Never throws: undecodable details are
 * ignored, because an error about the error would hide the one the peer meant to send.
 */
export function fromGrpcStatus(status: GrpcStatusInput): KratosError {
  let message = status.message ?? "";
  let info: ErrorInfo | undefined;
  if (status.details !== undefined && status.details.length > 0) {
    try {
      const decoded = fromBinary(StatusSchema, status.details);
      if (message === "") message = decoded.message;
      const any = decoded.details.find((d) => anyIs(d, ErrorInfoSchema));
      info = any === undefined ? undefined : anyUnpack(any, ErrorInfoSchema);
    } catch {
      info = undefined;
    }
  }
  return fromErrorInfo(status.code, message, info);
}

/** Builds the error from a gRPC code, a message and an optional ErrorInfo (shared with Connect). */
export function fromErrorInfo(
  grpcCode: number,
  message: string,
  info: Pick<ErrorInfo, "reason" | "metadata"> | undefined,
  cause?: unknown,
): KratosError {
  let code = httpCodeFromGrpc(grpcCode);
  let metadata: Record<string, string> = { ...info?.metadata };
  const { [httpCodeMetadataKey]: carried, ...rest } = metadata;
  if (carried !== undefined) {
    const original = Number(carried);
    const originalGrpc: number = grpcCodeFromHttp(original);
    // Trust the carried code only when it is consistent with the status code it came with.
    if (
      Number.isInteger(original) &&
      original >= 100 &&
      original <= 599 &&
      originalGrpc === grpcCode
    ) {
      code = original;
      metadata = rest;
    }
  }
  return new KratosError(code, info?.reason ?? "", message, {
    metadata,
    ...(cause === undefined ? {} : { cause }),
  });
}
