// scan: the merged config into a proto-generated message through the proto JSON mapping. YAML
// and env values are friendlier than proto JSON ("8000" from env for an int32, `500ms` for a
// Duration), so a pass over the message descriptor converts them first and names the key and
// file of anything that cannot fit.
import { fromJson, ScalarType } from "@bufbuild/protobuf";
import type { DescEnum, DescField, DescMessage, JsonValue, MessageShape } from "@bufbuild/protobuf";
import { durationHint, parseDurationNanos, protoDuration } from "./duration.js";
import { ConfigError } from "./source.js";
import { isMap, originOf } from "./tree.js";
import type { Tree } from "./tree.js";
import { describe } from "./value.js";

/** Scans `value` (found at `path` of `tree`) into a message of `schema`. */
export function scanValue<Desc extends DescMessage>(
  schema: Desc,
  value: unknown,
  path: string,
  tree: Tree,
): MessageShape<Desc> {
  const fail = (key: string, message: string): never => {
    throw new ConfigError(message, {
      file: originOf(tree, key),
      key: key === "" ? undefined : key,
    });
  };
  const json = value === undefined ? {} : message(schema, value, path, fail);
  try {
    return fromJson(schema, json, { ignoreUnknownFields: true });
  } catch (err) {
    // The coercion pass should have caught everything; keep the converter's words otherwise.
    return fail(path, err instanceof Error ? err.message : String(err));
  }
}

type Fail = (key: string, message: string) => never;

const passThrough = new Set([
  "google.protobuf.Timestamp",
  "google.protobuf.Struct",
  "google.protobuf.Value",
  "google.protobuf.ListValue",
  "google.protobuf.Any",
  "google.protobuf.FieldMask",
  "google.protobuf.Empty",
]);

/**
 * Whether a message reads as one JSON value rather than as a map of its fields (Duration,
 * Timestamp, Struct, Any, the wrappers, ...): what is inside is not field names.
 */
export function isOpaque(desc: DescMessage): boolean {
  return (
    desc.typeName === "google.protobuf.Duration" ||
    passThrough.has(desc.typeName) ||
    isWrapper(desc)
  );
}

function isWrapper(desc: DescMessage): boolean {
  return desc.typeName.startsWith("google.protobuf.") && desc.typeName.endsWith("Value");
}

function message(desc: DescMessage, value: unknown, path: string, fail: Fail): JsonValue {
  if (desc.typeName === "google.protobuf.Duration") return duration(value, path, fail);
  if (passThrough.has(desc.typeName)) return value as JsonValue;
  if (isWrapper(desc)) {
    // Wrappers (Int32Value, StringValue, ...) are their value field in JSON.
    const field = desc.fields[0];
    if (field?.fieldKind === "scalar") return scalar(field.scalar, value, path, fail);
  }
  if (!isMap(value)) return fail(path, `expected a map, got ${describe(value)}`);
  const out: Record<string, JsonValue> = {};
  for (const [key, child] of Object.entries(value)) {
    const field = desc.fields.find((f) => f.name === key || f.jsonName === key);
    if (field === undefined || child === null || child === undefined) continue;
    out[field.jsonName] = fieldValue(field, child, path === "" ? key : `${path}.${key}`, fail);
  }
  return out;
}

function fieldValue(field: DescField, value: unknown, path: string, fail: Fail): JsonValue {
  switch (field.fieldKind) {
    case "scalar":
      return scalar(field.scalar, value, path, fail);
    case "enum":
      return enumValue(field.enum, value, path, fail);
    case "message":
      return message(field.message, value, path, fail);
    case "list": {
      // A comma-separated string (an env variable) fills a repeated field.
      const items = typeof value === "string" ? value.split(",").map((s) => s.trim()) : value;
      if (!Array.isArray(items)) return fail(path, `expected a list, got ${describe(value)}`);
      return items.map((item: unknown, i) => {
        const at = `${path}.${i}`;
        if (field.listKind === "scalar") return scalar(field.scalar, item, at, fail);
        if (field.listKind === "enum") return enumValue(field.enum, item, at, fail);
        return message(field.message, item, at, fail);
      });
    }
    case "map": {
      if (!isMap(value)) return fail(path, `expected a map, got ${describe(value)}`);
      const out: Record<string, JsonValue> = {};
      for (const [key, item] of Object.entries(value)) {
        const at = `${path}.${key}`;
        if (field.mapKind === "scalar") out[key] = scalar(field.scalar, item, at, fail);
        else if (field.mapKind === "enum") out[key] = enumValue(field.enum, item, at, fail);
        else out[key] = message(field.message, item, at, fail);
      }
      return out;
    }
  }
}

const int32 = new Set([ScalarType.INT32, ScalarType.SINT32, ScalarType.SFIXED32]);
const uint32 = new Set([ScalarType.UINT32, ScalarType.FIXED32]);
const int64 = new Set([ScalarType.INT64, ScalarType.SINT64, ScalarType.SFIXED64]);
const uint64 = new Set([ScalarType.UINT64, ScalarType.FIXED64]);

function scalar(type: ScalarType, value: unknown, path: string, fail: Fail): JsonValue {
  const got = describe(value);
  switch (type) {
    case ScalarType.STRING:
      if (typeof value === "string") return value;
      if (typeof value === "number" || typeof value === "boolean") return String(value);
      return fail(path, `expected a string, got ${got}`);
    case ScalarType.BYTES:
      if (typeof value === "string") return value;
      return fail(path, `expected base64 bytes, got ${got}`);
    case ScalarType.BOOL:
      if (typeof value === "boolean") return value;
      if (value === "true" || value === "false") return value === "true";
      return fail(path, `expected true or false, got ${got}`);
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT: {
      const n = toNumber(value);
      return n === undefined ? fail(path, `expected a number, got ${got}`) : n;
    }
    default: {
      const text =
        typeof value === "number" || typeof value === "string" ? String(value).trim() : "";
      const signed = int32.has(type) || int64.has(type);
      if (!(signed ? /^-?\d+$/ : /^\d+$/).test(text)) {
        return fail(
          path,
          `expected ${signed ? "an integer" : "a non-negative integer"}, got ${got}`,
        );
      }
      if (int64.has(type) || uint64.has(type)) return text;
      const n = Number(text);
      const [min, max] = uint32.has(type) ? [0, 4294967295] : [-2147483648, 2147483647];
      if (n < min || n > max) return fail(path, `${text} is out of range (${min}..${max})`);
      return n;
    }
  }
}

function enumValue(desc: DescEnum, value: unknown, path: string, fail: Fail): JsonValue {
  if (typeof value === "string") {
    const byName = desc.values.find((v) => v.name === value);
    if (byName !== undefined) return byName.name;
    if (/^-?\d+$/.test(value.trim())) return Number(value);
  }
  if (typeof value === "number" && Number.isInteger(value)) return value;
  const names = desc.values.map((v) => v.name).join(", ");
  return fail(path, `expected one of ${names}, got ${describe(value)}`);
}

function duration(value: unknown, path: string, fail: Fail): JsonValue {
  if (typeof value === "string") {
    const nanos = parseDurationNanos(value);
    if (nanos !== undefined) return protoDuration(nanos);
  }
  return fail(path, `unknown duration ${describe(value)} (${durationHint})`);
}

function toNumber(value: unknown): number | undefined {
  if (typeof value === "number") return value;
  if (typeof value === "string" && value.trim() !== "" && Number.isFinite(Number(value))) {
    return Number(value);
  }
  return undefined;
}
