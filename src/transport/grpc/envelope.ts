import { gunzipSync, gzipSync, inflateSync, deflateSync } from "node:zlib";
import { KratosError } from "../../errors/error.js";
import { reasons } from "../../errors/reasons.js";

/**
 * The 5-byte length-prefixed envelope of gRPC, gRPC-Web and Connect streaming:
 * one flags byte, then a big-endian uint32 length, then the payload.
 */

/** Flag: the payload is compressed with the call's encoding. */
export const flagCompressed = 0x01;
/** Flag (Connect streaming): the end-of-stream message, JSON. */
export const flagEndStream = 0x02;
/** Flag (gRPC-Web): the trailers, as an HTTP/1 header block. */
export const flagTrailers = 0x80;

/** One envelope. */
export interface Envelope {
  flags: number;
  data: Uint8Array;
}

/** Encodes one envelope. */
export function encodeEnvelope(flags: number, data: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(5 + data.byteLength);
  out[0] = flags;
  out.writeUInt32BE(data.byteLength, 1);
  out.set(data, 5);
  return out;
}

/** The 5-byte prefix of an envelope of `length` bytes, for a payload written after it. */
export function envelopePrefix(flags: number, length: number): Buffer {
  const out = Buffer.allocUnsafe(5);
  out[0] = flags;
  out.writeUInt32BE(length, 1);
  return out;
}

/** Compressions a peer may use (`grpc-encoding`, `connect-content-encoding`). */
export type Compression = "identity" | "gzip" | "deflate";

/** The encodings we accept, for `grpc-accept-encoding`. */
export const acceptedEncodings = "gzip, deflate, identity";

/** The compression named by a header, or undefined when we do not support it. */
export function compressionOf(name: string | undefined): Compression | undefined {
  if (name === undefined || name === "" || name === "identity") return "identity";
  if (name === "gzip" || name === "deflate") return name;
  return undefined;
}

export function decompress(compression: Compression, data: Uint8Array, limit: number): Uint8Array {
  if (compression === "identity") return data;
  try {
    const out =
      compression === "gzip"
        ? gunzipSync(data, { maxOutputLength: limit + 1 })
        : inflateSync(data, { maxOutputLength: limit + 1 });
    if (out.byteLength > limit) throw tooLarge(limit);
    return out;
  } catch (err) {
    if (err instanceof KratosError) throw err;
    // zlib refuses output beyond maxOutputLength with a RangeError.
    if (err instanceof RangeError) throw tooLarge(limit);
    throw new KratosError(400, reasons.codec, `cannot decompress ${compression} message`, {
      cause: err,
    });
  }
}

export function compress(compression: Compression, data: Uint8Array): Uint8Array {
  if (compression === "gzip") return gzipSync(data);
  if (compression === "deflate") return deflateSync(data);
  return data;
}

/** A message larger than the limit: 413, sent as RESOURCE_EXHAUSTED over gRPC. */
export function tooLarge(limit: number): KratosError {
  return new KratosError(413, reasons.payloadTooLarge, `message larger than ${limit} bytes`);
}

/**
 * Splits a byte stream into envelopes as chunks arrive. Checks each declared length against the
 * limit before buffering it, so a peer cannot make us hold more than one oversized header.
 */
export class EnvelopeParser {
  #buffer: Buffer = Buffer.alloc(0);

  constructor(readonly limit: number) {}

  /** Adds a chunk and returns every envelope it completes. */
  push(chunk: Buffer): Envelope[] {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    const out: Envelope[] = [];
    for (;;) {
      if (this.#buffer.length < 5) break;
      const length = this.#buffer.readUInt32BE(1);
      if (length > this.limit) throw tooLarge(this.limit);
      if (this.#buffer.length < 5 + length) break;
      const flags = this.#buffer[0] ?? 0;
      out.push({ flags, data: this.#buffer.subarray(5, 5 + length) });
      this.#buffer = this.#buffer.subarray(5 + length);
    }
    return out;
  }

  /** True when bytes of an unfinished envelope are pending. */
  get pending(): boolean {
    return this.#buffer.length > 0;
  }
}

/** The error for a stream that ended inside an envelope. */
export function truncated(): KratosError {
  return new KratosError(400, reasons.codec, "truncated message: the stream ended inside a frame");
}
