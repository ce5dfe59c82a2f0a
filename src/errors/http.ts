import { create, fromBinary, fromJsonString, toBinary } from "@bufbuild/protobuf";
import { StatusSchema } from "../gen/errors/errors_pb.js";
import type { Status } from "../gen/errors/errors_pb.js";
import { KratosError } from "./error.js";
import type { ErrorStatus } from "./error.js";

/** An HTTP error response: the status line code and the Kratos JSON body. */
export interface HttpErrorResponse {
  status: number;
  /** `{"code":404,"reason":"...","message":"...","metadata":{}}`, as Go Kratos writes it. */
  body: string;
}

/**
 * Converts an error to its HTTP response. The status is the error code, or 500 when the code
 * cannot be an HTTP status (outside 100..599); the body keeps the code as it was.
 */
export function toHttpError(err: KratosError): HttpErrorResponse {
  const status = Number.isInteger(err.code) && err.code >= 100 && err.code <= 599 ? err.code : 500;
  const body: ErrorStatus = err.toStatus();
  return { status, body: JSON.stringify(body) };
}

/** The error as an errors.Status message, for binary protobuf error bodies. */
export function toStatusMessage(err: KratosError): Status {
  return create(StatusSchema, err.toStatus());
}

/** Serialized errors.Status, the error body of binary protobuf responses (`application/proto`). */
export function toStatusBinary(err: KratosError): Uint8Array {
  return toBinary(StatusSchema, toStatusMessage(err));
}

/**
 * Content types whose error bodies are binary errors.Status rather than JSON: the protobuf
 * media types the HTTP codec negotiates (encoding/negotiate.ts).
 */
const protoContentType = /^application\/((x-)?proto(buf)?|vnd\.google\.protobuf)\b/i;

/**
 * Reads an HTTP error response back into the error, as Go Kratos's client does: the body is an
 * errors.Status (JSON, or binary for protobuf content types) and the HTTP status wins over the
 * body's `code`. Returns undefined for 2xx. Never throws: a body that is not a Kratos error
 * gives an error with the status code, an empty reason, and the decoding failure as the cause.
 */
export function fromHttpResponse(
  status: number,
  body: string | Uint8Array,
  contentType = "application/json",
): KratosError | undefined {
  if (status >= 200 && status <= 299) return undefined;
  try {
    const message = protoContentType.test(contentType)
      ? fromBinary(StatusSchema, typeof body === "string" ? new TextEncoder().encode(body) : body)
      : fromJsonString(
          StatusSchema,
          typeof body === "string" ? body : new TextDecoder().decode(body),
          {
            ignoreUnknownFields: true,
          },
        );
    return new KratosError(status, message.reason, message.message, { metadata: message.metadata });
  } catch (cause) {
    return new KratosError(status, "", "", { cause });
  }
}
