/**
 * The body encodings of the kit by Go Kratos's codec names (its `encoding` registry): `json`,
 * `protojson` (Kratos v3's name for proto3 JSON; the same bytes here), `proto` (binary), and
 * `form` for request bodies.
 */
export type CodecName = "json" | "protojson" | "proto" | "form";

/** The media type without parameters, lower-cased: `application/json; charset=utf-8` -> `application/json`. */
export function mediaType(value: string): string {
  const semi = value.indexOf(";");
  return (semi < 0 ? value : value.slice(0, semi)).trim().toLowerCase();
}

/** The codec of a bare, lower-cased media type, or undefined when it is none of ours. */
export function codecOfMedia(media: string): CodecName | undefined {
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
  return codecOfMedia(mediaType(contentType));
}
