// The body of an event: a protobuf-es message, binary by default or proto JSON on request,
// named by a content-type header so that a subscriber decodes what was sent.
import { fromBinary, fromJsonString, toBinary, toJsonString } from "@bufbuild/protobuf";
import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import { codecOf } from "../encoding/media-type.js";
import { KratosError } from "../errors/error.js";
import { reasons } from "../errors/reasons.js";
import type { MessageHeaders } from "./broker.js";

/** How an event body is encoded: protobuf binary (`application/proto`) or proto JSON. */
export type EventEncoding = "proto" | "json";

/** The header naming the body's encoding. */
export const contentTypeHeader = "content-type";

const contentTypes: Record<EventEncoding, string> = {
  proto: "application/proto",
  json: "application/json",
};

/** Encodes `message` of `schema` (see {@link eventHeaders} for the header to send with it). */
export function encodeEvent<Desc extends DescMessage>(
  schema: Desc,
  message: MessageShape<Desc>,
  encoding: EventEncoding,
): Uint8Array {
  return encoding === "json"
    ? new TextEncoder().encode(toJsonString(schema, message))
    : toBinary(schema, message);
}

/**
 * The headers naming the encoding of an event body. Only that: the topic says the type, and a
 * header costs its bytes and its parsing on every message.
 */
export function eventHeaders(encoding: EventEncoding): MessageHeaders {
  return { [contentTypeHeader]: contentTypes[encoding] };
}

/**
 * Decodes a body by its content type (binary protobuf when there is none). A body that does not
 * decode, or an unknown content type, is a 400 `CODEC` KratosError.
 */
export function decodeEvent<Desc extends DescMessage>(
  schema: Desc,
  body: Uint8Array,
  headers: MessageHeaders,
): MessageShape<Desc> {
  const contentType = headers[contentTypeHeader];
  const codec = contentType === undefined ? "proto" : codecOf(contentType);
  try {
    if (codec === "proto") return fromBinary(schema, body);
    if (codec === "json" || codec === "protojson") {
      return fromJsonString(schema, new TextDecoder("utf-8", { fatal: true }).decode(body));
    }
  } catch (cause) {
    const detail = cause instanceof Error ? cause.message : String(cause);
    throw new KratosError(400, reasons.codec, `cannot decode ${schema.typeName}: ${detail}`, {
      cause,
    });
  }
  throw new KratosError(
    400,
    reasons.codec,
    `unsupported content type ${JSON.stringify(contentType)} for ${schema.typeName}`,
  );
}
