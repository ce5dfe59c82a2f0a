// How cached values become bytes in Redis and back: a protobuf-es message in its binary form
// (compact, and its schema evolves the way the API's does), or any JSON value.
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import type { DescMessage, MessageShape } from "@bufbuild/protobuf";

/** Turns a cached value into bytes and back. `decode` throws on bytes it cannot read. */
export interface CacheCodec<T> {
  /** A short name for logs (`json`, or the message's type name). */
  readonly name: string;
  encode(value: T): Uint8Array;
  decode(bytes: Uint8Array): T;
}

/**
 * A codec for protobuf-es messages of `schema`, in the binary wire format:
 * `protoCodec(GreetingSchema)` caches `Greeting` messages, typed, with no casts.
 */
export function protoCodec<Desc extends DescMessage>(schema: Desc): CacheCodec<MessageShape<Desc>> {
  return {
    name: schema.typeName,
    encode: (value) => toBinary(schema, value),
    decode: (bytes) => fromBinary(schema, bytes),
  };
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/**
 * A codec for plain JSON values (`JSON.stringify` / `JSON.parse`): the type parameter is the
 * caller's promise about what was stored, so use it for values without `bigint`, `Date` or
 * `undefined` fields, or map them yourself (a protobuf message keeps its types: see
 * {@link protoCodec}).
 */
export function jsonCodec<T>(): CacheCodec<T> {
  return {
    name: "json",
    encode: (value) => encoder.encode(JSON.stringify(value)),
    decode: (bytes) => JSON.parse(decoder.decode(bytes)) as T,
  };
}
