// The reply side of an HTTP route: the headers a handler set, and the body in the negotiated
// codec (raw HttpBody, a response_body field, or the whole message).
import { create, toBinary, toJson } from "@bufbuild/protobuf";
import type { DescMessage, JsonObject, Message } from "@bufbuild/protobuf";
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from "node:http";
import type { KratosError } from "../../errors/error.js";
import { toHttpError, toStatusBinary } from "../../errors/http.js";
import { writeJson } from "../../encoding/json-writer.js";
import { encodeMessage, toMessage } from "../../encoding/message.js";
import { responseCodec } from "../../encoding/negotiate.js";
import type { Negotiated } from "../../encoding/negotiate.js";
import { closesAfterReply } from "../http1/connections.js";
import type { HttpBody } from "../../gen/google/api/httpbody_pb.js";
import type { CompiledRoute } from "../../http-rule/compile.js";
import type { HttpServerOptions } from "./server-api.js";
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
  return {
    body: encodeMessage(output, message, codec.name, { emitImplicit: true }),
    contentType: codec.contentType,
  };
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

/**
 * Writes a handler's reply: through the server's `responseEncoder` when it has one, else in the
 * negotiated codec (JSON straight from what the handler returned, when it can be).
 */
export function writeReply(
  route: CompiledRoute,
  transport: HttpTransporter,
  reply: unknown,
  codec: Negotiated,
  encoder: HttpServerOptions["responseEncoder"],
): void {
  const res = transport.response;
  const headers = outgoingHeaders(transport);
  if (closesAfterReply(transport.request)) headers.connection = "close";
  const status = transport.status;
  if (encoder !== undefined) {
    for (const [name, value] of Object.entries(headers)) {
      if (value !== undefined) res.setHeader(name, value);
    }
    res.statusCode = status;
    const output = route.route.output;
    encoder(
      { schema: output, message: toMessage(output, reply), status, codec },
      transport.request,
      res,
    );
    return;
  }
  if (status === 204) {
    res.writeHead(status, headers);
    res.end();
    return;
  }
  const output = route.route.output;
  let body: Uint8Array | string;
  let contentType = codec.contentType;
  if (codec.name !== "proto" && !route.rawReply && route.responseField === undefined) {
    // The common case: JSON straight from what the handler returned, no reply message built.
    body = writeJson(output, reply, { emitImplicit: true });
  } else {
    ({ body, contentType } = encodeReply(route, toMessage(output, reply), codec));
  }
  headers["content-type"] = contentType;
  headers["content-length"] = typeof body === "string" ? Buffer.byteLength(body) : body.byteLength;
  res.writeHead(status, headers);
  res.end(body);
}

/**
 * Writes an error: through the server's `errorEncoder` when it has one, else as the Kratos body
 * in the codec Accept chose; a response already under way is cut instead.
 */
export function writeError(
  req: IncomingMessage,
  res: ServerResponse,
  err: KratosError,
  transport: HttpTransporter | undefined,
  encoder: HttpServerOptions["errorEncoder"],
): void {
  if (res.headersSent) {
    // Too late for an error body: cut the response so the client sees it is incomplete.
    res.destroy();
    return;
  }
  if (encoder !== undefined) {
    encoder(err, req, res);
    return;
  }
  const headers = transport === undefined ? {} : outgoingHeaders(transport);
  // A body left unread past the drain allowance (oversized, or an error before reading it)
  // is not read at all: the connection closes after the reply.
  if (closesAfterReply(req)) headers.connection = "close";
  const accepted = responseCodec(req.headers.accept);
  const { status, body: json } = toHttpError(err);
  const body = accepted.name === "proto" ? toStatusBinary(err) : json;
  headers["content-type"] = accepted.contentType;
  headers["content-length"] = typeof body === "string" ? Buffer.byteLength(body) : body.byteLength;
  res.writeHead(status, headers);
  res.end(body);
}
