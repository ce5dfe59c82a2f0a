// The reply side of an HTTP route: the headers a handler set, and the body in the negotiated
// codec (raw HttpBody, a response_body field, or the whole message).
import { create, toBinary, toJson } from "@bufbuild/protobuf";
import type { DescMessage, JsonObject, Message } from "@bufbuild/protobuf";
import type { OutgoingHttpHeaders } from "node:http";
import type { HttpBody } from "../../gen/google/api/httpbody_pb.js";
import { encodeMessage } from "./codec.js";
import type { Negotiated } from "./codec.js";
import type { CompiledRoute } from "./route.js";
import type { HttpTransporter } from "./transporter.js";

/** The reply headers a handler set on its transport. */
export function outgoingHeaders(transport: HttpTransporter): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = {};
  const raw = transport.replyHeaderIfSet?.raw;
  for (const key in raw) {
    const value = raw[key];
    if (value !== undefined) headers[key] = value;
  }
  return headers;
}

/** Encodes a reply message: HttpBody raw bodies, `response_body` fields, or the whole message. */
export function encodeReply(
  route: CompiledRoute,
  message: Message,
  codec: Negotiated,
): { body: Uint8Array | string; contentType: string } {
  const output = route.route.output;
  if (route.rawReply) {
    const httpBody = (
      route.responseField === undefined
        ? message
        : (message as unknown as Record<string, unknown>)[route.responseField.localName]
    ) as HttpBody | undefined;
    return {
      body: httpBody?.data ?? new Uint8Array(),
      contentType: httpBody?.contentType || "application/octet-stream",
    };
  }
  if (route.responseField !== undefined) {
    return encodeField(output, message, route.responseField, codec);
  }
  return { body: encodeMessage(output, message, codec), contentType: codec.contentType };
}

/**
 * Encodes the `response_body` field. Only message fields have a binary form; lists, maps and
 * scalars are answered in JSON even to protobuf clients, and the Content-Type says so.
 */
function encodeField(
  schema: DescMessage,
  message: Message,
  field: NonNullable<CompiledRoute["responseField"]>,
  codec: Negotiated,
): { body: Uint8Array | string; contentType: string } {
  if (codec.name === "proto" && field.fieldKind === "message") {
    const value = (message as unknown as Record<string, Message | undefined>)[field.localName];
    return {
      body: toBinary(field.message, value ?? create(field.message)),
      contentType: codec.contentType,
    };
  }
  const json = toJson(schema, message, { alwaysEmitImplicit: true }) as JsonObject;
  return { body: JSON.stringify(json[field.jsonName] ?? null), contentType: "application/json" };
}
