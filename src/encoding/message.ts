// Messages to and from bytes, for every transport: the HTTP server and client, and the gRPC
// port's gRPC, Connect and gRPC-Web calls. Browser-safe: no node module is imported here.
import { create, fromBinary, fromJsonString, isMessage, toBinary } from "@bufbuild/protobuf";
import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import { KratosError } from "../errors/error.js";
import { reasons } from "../errors/reasons.js";
import { writeJson } from "./json-writer.js";

/** The encodings of a message: proto3 JSON (by either name) or binary. */
export type MessageFormat = "json" | "protojson" | "proto";

/** Options of {@link decodeMessage}. */
export interface DecodeOptions {
  /** What the bytes are, for the error text: `body` (HTTP) or `message` (gRPC). */
  what?: "body" | "message";
  /** Read a blank JSON text as the empty message (Kratos's HTTP bodies) instead of an error. */
  blankIsEmpty?: boolean;
}

// Fatal: invalid UTF-8 is the client's error, not text to repair with U+FFFD (the binary codec
// rejects it too). Stateless between calls (no streaming decode), so one serves them all.
const utf8 = new TextDecoder("utf-8", { fatal: true });

// Unknown fields are skipped, not kept: protobuf-es keeps one object per unknown field, so a
// 4 MiB body of 2-byte fields would cost ~300 MiB of heap (found by the fuzz suite).
const dropUnknown = { readUnknownFields: false } as const;

/** Decodes untrusted bytes into a message; bytes that do not decode are a 400 CODEC error. */
export function decodeMessage<I extends DescMessage>(
  schema: I,
  data: Uint8Array,
  format: MessageFormat,
  options: DecodeOptions = {},
): MessageShape<I> {
  const what = options.what ?? "message";
  try {
    if (format === "proto") return fromBinary(schema, data, dropUnknown);
    let text: string;
    try {
      text = utf8.decode(data);
    } catch {
      throw new Error("invalid UTF-8");
    }
    if (options.blankIsEmpty === true && text.trim() === "") return create(schema);
    return fromJsonString(schema, text, { ignoreUnknownFields: true });
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    throw new KratosError(400, reasons.codec, `cannot decode ${format} ${what}: ${detail}`, {
      cause: err,
    });
  }
}

/** Turns a handler's result (a message or its init object) into a message of `schema`. */
export function toMessage<O extends DescMessage>(schema: O, value: unknown): MessageShape<O> {
  if (isMessage(value, schema)) return value;
  return create(schema, (value ?? {}) as never);
}

/** Options of {@link encodeMessage}. */
export interface EncodeOptions {
  /**
   * JSON: write fields with implicit presence at their zero value. Kratos's HTTP codec does
   * (EmitUnpopulated); the Connect and gRPC JSON codecs do not.
   */
  emitImplicit: boolean;
}

/**
 * Encodes a message or the init object a handler returned: binary, or proto3 JSON as a string
 * (a string body lets node write head and body in one write).
 */
export function encodeMessage(
  schema: DescMessage,
  value: unknown,
  format: MessageFormat,
  options: EncodeOptions,
): Uint8Array | string {
  return format === "proto"
    ? toBinary(schema, toMessage(schema, value))
    : writeJson(schema, value, options);
}
