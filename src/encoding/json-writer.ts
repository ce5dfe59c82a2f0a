import { create, fromJson, isMessage, ScalarType, toJson, toJsonString } from "@bufbuild/protobuf";
import type { DescEnum, DescField, DescMessage, JsonValue, Message } from "@bufbuild/protobuf";
import { base64Encode } from "@bufbuild/protobuf/wire";
import { FeatureSet_FieldPresence, isWrapperDesc } from "@bufbuild/protobuf/wkt";

/**
 * Proto3 JSON written straight to a string: the reply encoder of the HTTP and Connect paths.
 *
 * protobuf-es's `toJsonString` builds a JSON object tree and then runs `JSON.stringify` over it;
 * on a small reply, that tree is a good part of the per-request garbage. This writer is compiled
 * once per message type and appends text directly. Its output is byte-identical to
 * `toJsonString(schema, message, { alwaysEmitImplicit })` (a property test holds it to that), and
 * it accepts both a message and the plain init object a handler may return (read as `create`
 * would fill it), so the server can skip building the reply message for JSON clients.
 *
 * It writes what it knows and hands the rest to protobuf-es: well-known types with their own
 * JSON form are delegated field by field, and any value of an unexpected type makes the whole
 * write start again through protobuf-es, which then produces its own result or error.
 *
 * @module
 */

/** Options of {@link writeJson}. */
export interface JsonWriteOptions {
  /** Emit fields with implicit presence at their zero value (Kratos's EmitUnpopulated). */
  emitImplicit: boolean;
}

type Fields = Record<string, unknown>;
/** Writes one value as JSON text; throws {@link unsupported} on a value it does not know. */
type WriteValue = (value: unknown) => string;
/** Writes `"key":value` for one field, or returns undefined when the field is not emitted. */
type WriteField = (message: Fields) => string | undefined;

class Unsupported extends Error {}
// Thrown (never escapes this module) to restart the whole write through protobuf-es.
const unsupported = new Unsupported("value not handled by the json writer");

const writers = {
  emitting: new WeakMap<DescMessage, WriteValue>(),
  compact: new WeakMap<DescMessage, WriteValue>(),
};

/**
 * Writes `value` (a message of `schema`, or an init object of it; undefined and null are the
 * empty message) as proto3 JSON text.
 */
export function writeJson(schema: DescMessage, value: unknown, options: JsonWriteOptions): string {
  const input = value ?? {};
  try {
    return messageWriter(schema, options.emitImplicit)(input);
  } catch (err) {
    if (err !== unsupported) throw err;
  }
  return toJsonString(schema, asMessage(schema, input), {
    alwaysEmitImplicit: options.emitImplicit,
  });
}

function asMessage(schema: DescMessage, value: unknown): Message {
  return isMessage(value, schema) ? value : create(schema, value as never);
}

// Well-known types whose JSON is not an object of their fields.
const customJson = new Set([
  "google.protobuf.Any",
  "google.protobuf.Timestamp",
  "google.protobuf.Duration",
  "google.protobuf.FieldMask",
  "google.protobuf.Struct",
  "google.protobuf.Value",
  "google.protobuf.ListValue",
]);

function messageWriter(desc: DescMessage, emit: boolean): WriteValue {
  const cache = emit ? writers.emitting : writers.compact;
  const cached = cache.get(desc);
  if (cached !== undefined) return cached;
  const typeName = desc.typeName;
  if (customJson.has(typeName) || isWrapperDesc(desc)) {
    const delegated: WriteValue = (value) => {
      if (!isObject(value) || (value.$typeName !== undefined && value.$typeName !== typeName)) {
        throw unsupported;
      }
      return JSON.stringify(toJson(desc, asMessage(desc, value), { alwaysEmitImplicit: emit }));
    };
    cache.set(desc, delegated);
    return delegated;
  }
  const fields: WriteField[] = [];
  const write: WriteValue = (value) => {
    if (!isObject(value) || (value.$typeName !== undefined && value.$typeName !== typeName)) {
      throw unsupported;
    }
    let out = "{";
    for (const field of fields) {
      const text = field(value);
      if (text !== undefined) out = out.length === 1 ? out + text : out + "," + text;
    }
    return out + "}";
  };
  // Cached before the fields compile, so recursive types find this writer instead of looping.
  cache.set(desc, write);
  for (const field of desc.fields.concat().sort((a, b) => a.number - b.number)) {
    fields.push(fieldWriter(field, emit));
  }
  return write;
}

function isObject(value: unknown): value is Fields {
  return typeof value === "object" && value !== null;
}

function fieldWriter(field: DescField, emit: boolean): WriteField {
  const key = JSON.stringify(field.jsonName) + ":";
  const local = field.localName;
  switch (field.fieldKind) {
    case "list": {
      const item = valueWriter(field, emit);
      return (message) => {
        const list = message[local];
        if (list === undefined) return emit ? key + "[]" : undefined;
        if (!Array.isArray(list)) throw unsupported;
        if (list.length === 0) return emit ? key + "[]" : undefined;
        let out = key + "[";
        for (let i = 0; i < list.length; i++) out += (i === 0 ? "" : ",") + item(list[i]);
        return out + "]";
      };
    }
    case "map": {
      const entry = valueWriter(field, emit);
      return (message) => {
        const map = message[local];
        if (map === undefined) return emit ? key + "{}" : undefined;
        if (!isObject(map) || Array.isArray(map)) throw unsupported;
        const keys = Object.keys(map);
        if (keys.length === 0) return emit ? key + "{}" : undefined;
        let out = key + "{";
        for (let i = 0; i < keys.length; i++) {
          const k = keys[i] as string;
          out += (i === 0 ? "" : ",") + quote(k) + ":" + entry(map[k]);
        }
        return out + "}";
      };
    }
    default:
      return singularWriter(field, key, emit);
  }
}

function singularWriter(
  field: DescField & { fieldKind: "scalar" | "enum" | "message" },
  key: string,
  emit: boolean,
): WriteField {
  const local = field.localName;
  const value = valueWriter(field, emit);
  if (field.oneof !== undefined) {
    const oneof = field.oneof.localName;
    return (message) => {
      const selected = message[oneof];
      if (selected === undefined) return undefined;
      if (!isObject(selected)) throw unsupported;
      return selected.case === local ? key + value(selected.value) : undefined;
    };
  }
  // Message fields always have explicit presence.
  if (field.presence !== FeatureSet_FieldPresence.IMPLICIT || field.fieldKind === "message") {
    const required = field.presence === FeatureSet_FieldPresence.LEGACY_REQUIRED;
    return (message) => {
      const v = message[local];
      // Explicit presence: a message's unset fields are undefined, or (proto2 defaults) live on
      // its prototype; an init object has only what the handler set.
      if (v !== undefined && Object.prototype.hasOwnProperty.call(message, local)) {
        return key + value(v);
      }
      // protobuf-es reports the missing required field.
      if (required) throw unsupported;
      return undefined;
    };
  }
  // Implicit presence: a missing value in an init object is the zero value.
  const zero =
    field.fieldKind === "enum" ? (field.enum.values[0]?.number ?? 0) : zeroOf(field.scalar);
  const isZero = field.fieldKind === "enum" ? (v: unknown) => v === zero : zeroTest(field.scalar);
  if (emit) {
    const zeroText = key + value(zero);
    return (message) => {
      const v = message[local];
      return v === undefined ? zeroText : key + value(v);
    };
  }
  return (message) => {
    const v = message[local];
    return v === undefined || isZero(v) ? undefined : key + value(v);
  };
}

/** Writes one value of a field: the field's own value, a list item or a map value. */
function valueWriter(field: DescField, emit: boolean): WriteValue {
  if (field.scalar !== undefined) return scalarWriter(field.scalar);
  if (field.enum !== undefined) return enumWriter(field.enum);
  return messageValueWriter(field, field.message, emit);
}

/** A message-typed value, as protobuf-es stores it in a field of this kind. */
function messageValueWriter(field: DescField, desc: DescMessage, emit: boolean): WriteValue {
  // Struct fields hold a JsonObject (except inside google.protobuf.Value).
  if (desc.typeName === "google.protobuf.Struct" && field.parent.typeName !== desc.typeName) {
    return (value) =>
      JSON.stringify(
        toJson(desc, isMessage(value, desc) ? value : fromJson(desc, value as JsonValue)),
      );
  }
  // Singular wrapper fields outside a oneof hold the bare scalar.
  if (field.fieldKind === "message" && field.oneof === undefined && isWrapperDesc(desc)) {
    // isWrapperDesc narrowed desc: its one field is the scalar `value`.
    return scalarWriter(desc.fields[0].scalar);
  }
  return messageWriter(desc, emit);
}

function enumWriter(desc: DescEnum): WriteValue {
  if (desc.typeName === "google.protobuf.NullValue") {
    return (value) => {
      if (typeof value !== "number") throw unsupported;
      return "null";
    };
  }
  // desc.value holds the first of aliased values, as protobuf-es writes them.
  const names = new Map<number, string>();
  for (const { number } of desc.values) {
    const name = desc.value[number]?.jsonName;
    if (name !== undefined) names.set(number, JSON.stringify(name));
  }
  return (value) => {
    if (typeof value !== "number") throw unsupported;
    // An unknown value is written as its number.
    return names.get(value) ?? jsonNumber(value);
  };
}

// Characters JSON.stringify escapes: controls, quote, backslash, and (for lone surrogates) any
// surrogate; a string without them is quoted as it is.
// eslint-disable-next-line no-control-regex -- control characters are exactly what it looks for
const needsEscape = /[\u0000-\u001f"\\\ud800-\udfff]/;

/** JSON.stringify of a string, without its setup cost for the usual string that needs no escape. */
function quote(value: string): string {
  return needsEscape.test(value) ? JSON.stringify(value) : `"${value}"`;
}

/** JSON.stringify of a number: NaN and the infinities become null. */
function jsonNumber(value: number): string {
  return Number.isFinite(value) ? String(value) : "null";
}

function scalarWriter(type: ScalarType): WriteValue {
  switch (type) {
    case ScalarType.STRING:
      return (value) => {
        if (typeof value !== "string") throw unsupported;
        return quote(value);
      };
    case ScalarType.BOOL:
      return (value) => {
        if (typeof value !== "boolean") throw unsupported;
        return value ? "true" : "false";
      };
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT:
      return (value) => {
        if (typeof value !== "number") throw unsupported;
        if (Number.isFinite(value)) return String(value);
        return Number.isNaN(value) ? '"NaN"' : value > 0 ? '"Infinity"' : '"-Infinity"';
      };
    case ScalarType.INT64:
    case ScalarType.UINT64:
    case ScalarType.SINT64:
    case ScalarType.FIXED64:
    case ScalarType.SFIXED64:
      // 64-bit integers are JSON strings.
      return (value) => {
        if (typeof value === "bigint") return `"${value.toString()}"`;
        if (typeof value === "string") return JSON.stringify(value);
        if (typeof value === "number" && Number.isInteger(value)) return `"${String(value)}"`;
        throw unsupported;
      };
    case ScalarType.BYTES:
      return (value) => {
        if (!(value instanceof Uint8Array)) throw unsupported;
        return `"${base64Encode(value)}"`;
      };
    default:
      // int32, uint32, sint32, fixed32, sfixed32
      return (value) => {
        if (typeof value !== "number") throw unsupported;
        return jsonNumber(value);
      };
  }
}

function zeroOf(type: ScalarType): unknown {
  switch (type) {
    case ScalarType.STRING:
      return "";
    case ScalarType.BOOL:
      return false;
    case ScalarType.BYTES:
      return new Uint8Array(0);
    case ScalarType.INT64:
    case ScalarType.UINT64:
    case ScalarType.SINT64:
    case ScalarType.FIXED64:
    case ScalarType.SFIXED64:
      return 0n;
    default:
      return 0;
  }
}

/** Whether a value is the zero of an implicit-presence field (then it is left out). */
function zeroTest(type: ScalarType): (value: unknown) => boolean {
  switch (type) {
    case ScalarType.STRING:
      return (v) => v === "";
    case ScalarType.BOOL:
      return (v) => v === false;
    case ScalarType.BYTES:
      return (v) => v instanceof Uint8Array && v.byteLength === 0;
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT:
      // -0 is not the zero value here: protobuf-es emits it.
      return (v) => Object.is(v, 0);
    default:
      // 0, 0n and "0" alike (64-bit values may be bigints or strings).
      return (v) => v == 0;
  }
}
