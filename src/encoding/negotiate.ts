// Content negotiation as Go Kratos does it (transport/http/codec.go): the request's codec from
// its Content-Type, the reply's from Accept alone. The HTTP server and client share it.
import { KratosError } from "../errors/error.js";
import { reasons } from "../errors/reasons.js";
import { codecOfMedia, mediaType } from "./media-type.js";
import type { CodecName } from "./media-type.js";

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

const json = replyCodecs.json;

/**
 * The codec of a request body by its Content-Type; a missing Content-Type means JSON, as in
 * Kratos. Throws 400 CODEC for anything else.
 */
export function requestCodec(contentType: string | undefined): CodecName {
  if (contentType === undefined || contentType === "") return "json";
  const kind = codecOfMedia(mediaType(contentType));
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
    const kind = media === "*/*" || media === "application/*" ? "json" : codecOfMedia(media);
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
