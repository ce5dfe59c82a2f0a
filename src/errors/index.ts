/**
 * The kratos-ts error model: one error type with an HTTP code, a reason, a message and
 * metadata, converted at each transport edge (HTTP JSON body, gRPC status with ErrorInfo,
 * ConnectError). Wire-compatible with Go Kratos.
 *
 * @module
 */
export { KratosError } from "./error.js";
export { reasons } from "./reasons.js";
export type { FrameworkReason } from "./reasons.js";
export type { ErrorMetadata, ErrorStatus, KratosErrorOptions } from "./error.js";
export { code, fromError, is, reason, unknownCode, unknownReason } from "./from-error.js";
export {
  badRequest,
  clientClosed,
  conflict,
  forbidden,
  gatewayTimeout,
  internalServer,
  isBadRequest,
  isClientClosed,
  isConflict,
  isForbidden,
  isGatewayTimeout,
  isInternalServer,
  isNotFound,
  isServiceUnavailable,
  isTooManyRequests,
  isUnauthorized,
  notFound,
  serviceUnavailable,
  tooManyRequests,
  unauthorized,
} from "./helpers.js";
export {
  errorInfoOf,
  fromGrpcStatus,
  grpcCodeFromHttp,
  httpCodeFromGrpc,
  httpCodeMetadataKey,
  toGrpcStatus,
} from "./grpc.js";
export type { GrpcStatus, GrpcStatusInput } from "./grpc.js";
export { fromConnectError, toConnectError } from "./connect.js";
export { errorFiles, registerErrorFiles } from "./files.js";
export { fromHttpResponse, toHttpError, toStatusBinary, toStatusMessage } from "./http.js";
export type { HttpErrorResponse } from "./http.js";
