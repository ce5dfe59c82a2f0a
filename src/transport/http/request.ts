// The request side of an HTTP route: its body read within the limit, decoded by its codec,
// and its path variables and query bound into the input message.
import { create, fromJson } from "@bufbuild/protobuf";
import type { DescMessage, JsonValue, Message } from "@bufbuild/protobuf";
import type { IncomingMessage } from "node:http";
import { KratosError } from "../../errors/error.js";
import { reasons } from "../../errors/reasons.js";
import { HttpBodySchema } from "../../gen/google/api/httpbody_pb.js";
import { bindPairs, bindStrings } from "./binding.js";
import type { CodecName } from "../../encoding/media-type.js";
import { decodeMessage } from "../../encoding/message.js";
import { requestCodec } from "../../encoding/negotiate.js";
import type { CompiledRoute } from "../../http-rule/compile.js";

// An empty or blank body is the empty message, as in Kratos.
const bodyDecoding = { what: "body", blankIsEmpty: true } as const;

/** Reads and decodes the body of a route that has one (`body: "*"` or `body: "field"`). */
export async function decodeRequestBody(
  route: CompiledRoute,
  req: IncomingMessage,
  maxBody: number,
): Promise<{ message: Message; codec: CodecName }> {
  const input = route.route.input;
  const contentType = req.headers["content-type"];
  const body = await readBody(req, maxBody);
  if (route.rawBody) {
    const httpBody = create(HttpBodySchema, { contentType: contentType ?? "", data: body });
    if (route.wholeBody) return { message: httpBody, codec: "json" };
    const message = create(input);
    setField(message, route.bodyField, httpBody);
    return { message, codec: "json" };
  }
  const codec = requestCodec(contentType);
  if (route.wholeBody) {
    if (codec !== "form")
      return { message: decodeMessage(input, body, codec, bodyDecoding), codec };
    const message = create(input);
    bindForm(input, message, body);
    return { message, codec };
  }
  const message = create(input);
  decodeBodyField(route, message, codec, body);
  return { message, codec };
}

/** Binds path variables, then the query (the path wins; `body: "*"` takes no query). */
export function bindUrl(
  route: CompiledRoute,
  message: Message,
  vars: [string, string][],
  search: string,
): void {
  for (const [path, value] of vars) {
    const fields = route.pathFields.get(path);
    if (fields !== undefined) bindStrings(message, fields, [value], "path parameter", path);
  }
  if (!route.wholeBody && search !== "") {
    bindPairs(
      route.route.input,
      message,
      new URLSearchParams(search),
      route.bound,
      "query parameter",
    );
  }
}

function bindForm(desc: DescMessage, message: Message, body: Buffer): void {
  bindPairs(desc, message, new URLSearchParams(body.toString("utf8")), new Set(), "form field");
}

/** Fills the body field (`body: "field"`) of `message` from the request body. */
function decodeBodyField(
  route: CompiledRoute,
  message: Message,
  codec: CodecName,
  body: Buffer,
): void {
  const field = route.bodyField;
  if (field === undefined) return;
  if (field.fieldKind === "message") {
    let value: Message;
    if (codec === "form") {
      value = create(field.message);
      bindForm(field.message, value, body);
    } else {
      value = decodeMessage(field.message, body, codec, bodyDecoding);
    }
    setField(message, field, value);
    return;
  }
  // A scalar, list or map body field: its JSON value is the body.
  if (codec !== "json") {
    throw new KratosError(400, reasons.codec, `body field ${field.name} accepts JSON only`);
  }
  let partial: Message;
  try {
    const text = body.toString("utf8");
    const json = (text.trim() === "" ? null : JSON.parse(text)) as JsonValue;
    partial = fromJson(
      route.route.input,
      { [field.jsonName]: json },
      { ignoreUnknownFields: true },
    );
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    throw new KratosError(400, reasons.codec, `cannot decode json body: ${detail}`, { cause: err });
  }
  const source = partial as unknown as Record<string, unknown>;
  const target = message as unknown as Record<string, unknown>;
  const key = field.oneof === undefined ? field.localName : field.oneof.localName;
  target[key] = source[key];
}

function setField(message: Message, field: CompiledRoute["bodyField"], value: Message): void {
  if (field === undefined) return;
  const target = message as unknown as Record<string, unknown>;
  if (field.oneof !== undefined) target[field.oneof.localName] = { case: field.localName, value };
  else target[field.localName] = value;
}

/** Reads a request body up to `limit` bytes; larger bodies are a 413 error. */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers["content-length"] ?? 0);
  if (declared > limit) {
    return Promise.reject(tooLarge(limit));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.off("data", onData);
        req.off("end", onEnd);
        // Stop reading: the rest is not drained (see Http1Connections), the connection closes.
        req.pause();
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      resolve(
        chunks.length === 1 && chunks[0] !== undefined ? chunks[0] : Buffer.concat(chunks, size),
      );
    };
    req.on("data", onData);
    req.once("end", onEnd);
    req.once("error", reject);
  });
}

function tooLarge(limit: number): KratosError {
  return new KratosError(413, reasons.payloadTooLarge, `request body larger than ${limit} bytes`);
}
