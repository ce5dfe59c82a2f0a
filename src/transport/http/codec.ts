import { create, fromBinary, fromJsonString, isMessage, toBinary } from "@bufbuild/protobuf";
import type { DescMessage, Message, MessageShape } from "@bufbuild/protobuf";
import { KratosError } from "../../errors/error.js";
import { reasons } from "../../errors/reasons.js";
import { writeJson } from "../../internal/json-writer.js";

/**
 * The body encodings of the HTTP transport, by Go Kratos's codec names: `json` and `protojson`
 * (Kratos v3's name for proto3 JSON; the same bytes here), `proto` (binary), and forms for
 * request bodies.
 */
export type CodecName = "json" | "protojson" | "proto" | "form";

/** A negotiated reply encoding: its codec and the media type to answer with. */
export interface Negotiated {
  name: "json" | "protojson" | "proto";
  contentType: string;
}

/**
 * The reply encodings. The media type is always `application/<codec name>`, as Go Kratos writes
 * it: its clients pick their decoder by that name, and know no other (a reply typed
 * `application/x-protobuf` is read as JSON by them, and fails).
 */
export const replyCodecs: Readonly<Record<Negotiated["name"], Negotiated>> = {
  json: { name: "json", contentType: "application/json" },
  protojson: { name: "protojson", contentType: "application/protojson" },
  proto: { name: "proto", contentType: "application/proto" },
};

// Stateless between calls (no streaming decode), so one serves them all.
const utf8 = new TextDecoder();

const json = replyCodecs.json;

/** The media type without parameters, lower-cased: `application/json; charset=utf-8` -> `application/json`. */
function mediaType(value: string): string {
  const semi = value.indexOf(";");
  return (semi < 0 ? value : value.slice(0, semi)).trim().toLowerCase();
}

function classify(media: string): CodecName | undefined {
  switch (media) {
    case "application/json":
    case "text/json":
      return "json";
    case "application/protojson":
      return "protojson";
    // Go Kratos names its codec "proto" (application/proto); the others are in common use.
    case "application/proto":
    case "application/protobuf":
    case "application/x-protobuf":
    case "application/vnd.google.protobuf":
      return "proto";
    case "application/x-www-form-urlencoded":
      return "form";
    default:
      return media.endsWith("+json") ? "json" : undefined;
  }
}

/** The codec a Content-Type names, or undefined when it is none of ours (never throws). */
export function codecOf(contentType: string): CodecName | undefined {
  return classify(mediaType(contentType));
}

/**
 * The codec of a request body by its Content-Type; a missing Content-Type means JSON, as in
 * Kratos. Throws 400 CODEC for anything else.
 */
export function requestCodec(contentType: string | undefined): CodecName {
  if (contentType === undefined || contentType === "") return "json";
  const kind = classify(mediaType(contentType));
  if (kind === undefined) {
    throw new KratosError(400, reasons.codec, `unsupported content type "${contentType}"`);
  }
  return kind;
}

// On equal quality, the reply Go Kratos would give: JSON is its fallback for anything it cannot
// match, so it wins ties.
const preference = { json: 0, protojson: 1, proto: 2 } as const;

/**
 * The encoding of a reply, from the Accept header only (the request's Content-Type never
 * chooses it, as in Go Kratos): the supported type of highest quality, JSON on a tie, for `*` /
 * `application/*`, and when nothing in Accept is supported (never 406). Unlike Go Kratos, which
 * reads only the text before the first `;` and so ignores lists and q-values, every entry is
 * weighed by its q-value as RFC 9110 says; no Go Kratos client sends a list.
 */
export function responseCodec(accept: string | undefined): Negotiated {
  if (accept === undefined || accept === "") return json;
  let best: Negotiated = json;
  let bestQ = 0;
  for (const item of accept.split(",")) {
    const [rawMedia = "", ...params] = item.split(";");
    const media = rawMedia.trim().toLowerCase();
    const kind = media === "*/*" || media === "application/*" ? "json" : classify(media);
    if (kind === undefined || kind === "form") continue;
    const qParam = params.map((p) => p.trim().toLowerCase()).find((p) => p.startsWith("q="));
    const q = qParam === undefined ? 1 : Number(qParam.slice(2));
    if (!(q > 0) || q > 1) continue;
    if (q > bestQ || (q === bestQ && preference[kind] < preference[best.name])) {
      best = replyCodecs[kind];
      bestQ = q;
    }
  }
  return best;
}

/** Binary read options for untrusted requests. */
const dropUnknown = { readUnknownFields: false } as const;

/** Decodes a body into a message; a body that does not decode is a 400 CODEC error. */
export function decodeBody<I extends DescMessage>(
  schema: I,
  codec: "json" | "protojson" | "proto",
  body: Uint8Array,
): MessageShape<I> {
  try {
    // Unknown fields are skipped, not kept: protobuf-es keeps one object per unknown field, so
    // a 4 MiB body of 2-byte fields would cost ~300 MiB of heap (found by the fuzz suite).
    if (codec === "proto") return fromBinary(schema, body, dropUnknown);
    const text = utf8.decode(body);
    // An empty body is an empty message, not a syntax error.
    if (text.trim() === "") return create(schema);
    return fromJsonString(schema, text, { ignoreUnknownFields: true });
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    throw new KratosError(400, reasons.codec, `cannot decode ${codec} body: ${detail}`, {
      cause: err,
    });
  }
}

/** Turns a handler's result into a message of `schema`. */
export function toMessage<O extends DescMessage>(schema: O, value: unknown): MessageShape<O> {
  if (isMessage(value, schema)) return value;
  return create(schema, (value ?? {}) as never);
}

/** Encodes a message, emitting fields at their defaults in JSON (Kratos's EmitUnpopulated). */
export function encodeMessage(
  schema: DescMessage,
  message: Message,
  codec: Negotiated,
): Uint8Array | string {
  return codec.name === "proto"
    ? toBinary(schema, message)
    : writeJson(schema, message, { emitImplicit: true });
}
