import { Code, ConnectError } from "@connectrpc/connect";
import { ErrorInfoSchema } from "../gen/google/rpc/error_details_pb.js";
import { KratosError } from "./error.js";
import { errorInfoOf, fromErrorInfo, grpcCodeFromHttp, isBareStatus } from "./grpc.js";

/**
 * Converts an error to a ConnectError: the gRPC code of the Kratos table and a
 * google.rpc.ErrorInfo detail, as Go Kratos sends over gRPC. The KratosError is the cause.
 */
export function toConnectError(err: KratosError): ConnectError {
  const grpcCode = grpcCodeFromHttp(err.code);
  // ConnectError has no OK code; an error that claims 200 still has to fail the call.
  const code = grpcCode === 0 ? Code.Unknown : grpcCode;
  return new ConnectError(
    err.message,
    code,
    undefined,
    isBareStatus(err) ? [] : [{ desc: ErrorInfoSchema, value: errorInfoOf(err) }],
    err,
  );
}

/** Converts a ConnectError (from a Connect, gRPC or gRPC-Web client) back to the error. */
export function fromConnectError(err: ConnectError): KratosError {
  if (err.cause instanceof KratosError) return err.cause;
  let info: { reason: string; metadata: Record<string, string> } | undefined;
  try {
    info = err.findDetails(ErrorInfoSchema)[0];
  } catch {
    info = undefined;
  }
  return fromErrorInfo(err.code, err.rawMessage, info, err);
}
