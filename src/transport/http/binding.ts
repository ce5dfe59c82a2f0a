import { create, fromJson, protoInt64, ScalarType } from "@bufbuild/protobuf";
import type { DescEnum, DescField, DescMessage, JsonValue, Message } from "@bufbuild/protobuf";
import { base64Decode } from "@bufbuild/protobuf/wire";
import { isWrapperDesc } from "@bufbuild/protobuf/wkt";
import { KratosError } from "../../errors/error.js";
import { reasons } from "../../errors/reasons.js";
import { resolveFieldPath } from "../../http-rule/field-path.js";

/**
 * Binding of HTTP path variables, query parameters and form fields into request messages, the
 * way gRPC-gateway and Kratos do: `a.b=1` reaches nested fields, `k=1&k=2` fills repeated
 * fields, enums bind by name or number, well-known types by their JSON form.
 */

type PlainMessage = Record<string, unknown>;

/** A 400 CODEC error for a value that does not fit its field. */
export function bindError(source: string, name: string, message: string): KratosError {
  return new KratosError(400, reasons.codec, `${source} "${name}": ${message}`);
}

/**
 * Sets the field at the end of `chain` from string values, creating intermediate messages.
 * Throws a 400 CODEC KratosError for a value that does not parse.
 */
export function bindStrings(
  message: Message,
  chain: readonly DescField[],
  values: readonly string[],
  source: string,
  name: string,
): void {
  let target = message as unknown as PlainMessage;
  for (let i = 0; i < chain.length - 1; i++) {
    const field = chain[i];
    if (field?.fieldKind !== "message") throw bindError(source, name, "not a message field");
    target = child(target, field);
  }
  const leaf = chain[chain.length - 1];
  if (leaf === undefined) return;
  try {
    switch (leaf.fieldKind) {
      case "scalar":
        assign(target, leaf, parseScalar(leaf.scalar, first(values), leaf.longAsString));
        return;
      case "enum":
        assign(target, leaf, parseEnum(leaf.enum, first(values)));
        return;
      case "message": {
        // protobuf-es unboxes singular wrapper fields: an Int32Value field holds a number.
        const wrapped = isWrapperDesc(leaf.message) ? leaf.message.fields[0] : undefined;
        if (wrapped?.fieldKind === "scalar") {
          assign(target, leaf, parseScalar(wrapped.scalar, first(values), wrapped.longAsString));
        } else {
          assign(target, leaf, parseMessage(leaf.message, first(values)));
        }
        return;
      }
      case "list": {
        const list = target[leaf.localName] as unknown[];
        for (const v of values) {
          if (leaf.listKind === "scalar") list.push(parseScalar(leaf.scalar, v, leaf.longAsString));
          else if (leaf.listKind === "enum") list.push(parseEnum(leaf.enum, v));
          else list.push(parseMessage(leaf.message, v));
        }
        return;
      }
      case "map":
        throw new Error("map fields cannot be bound from the URL");
    }
  } catch (err) {
    if (err instanceof KratosError) throw err;
    throw bindError(source, name, err instanceof Error ? err.message : String(err));
  }
}

function first(values: readonly string[]): string {
  return values[0] ?? "";
}

function assign(target: PlainMessage, field: DescField, value: unknown): void {
  if (field.oneof !== undefined) target[field.oneof.localName] = { case: field.localName, value };
  else target[field.localName] = value;
}

function child(target: PlainMessage, field: DescField & { fieldKind: "message" }): PlainMessage {
  if (field.oneof !== undefined) {
    const current = target[field.oneof.localName] as { case?: string; value?: PlainMessage };
    if (current.case === field.localName && current.value !== undefined) return current.value;
    const value = create(field.message) as unknown as PlainMessage;
    target[field.oneof.localName] = { case: field.localName, value };
    return value;
  }
  const existing = target[field.localName] as PlainMessage | undefined;
  if (existing !== undefined) return existing;
  const value = create(field.message) as unknown as PlainMessage;
  target[field.localName] = value;
  return value;
}

const int32Pattern = /^[-+]?\d+$/;
const uintPattern = /^\+?\d+$/;

/** Parses the string form of a scalar (as in a URL) into its protobuf-es value. */
export function parseScalar(type: ScalarType, s: string, longAsString: boolean): unknown {
  switch (type) {
    case ScalarType.STRING:
      return s;
    case ScalarType.BOOL: {
      const lower = s.toLowerCase();
      if (lower === "true" || lower === "1" || lower === "t") return true;
      if (lower === "false" || lower === "0" || lower === "f") return false;
      throw new Error(`"${s}" is not a boolean`);
    }
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      return parseInt32(s, -0x80000000, 0x7fffffff, int32Pattern);
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return parseInt32(s, 0, 0xffffffff, uintPattern);
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64: {
      if (!int32Pattern.test(s)) throw new Error(`"${s}" is not an integer`);
      const v = protoInt64.parse(s);
      return longAsString ? v.toString() : v;
    }
    case ScalarType.UINT64:
    case ScalarType.FIXED64: {
      if (!uintPattern.test(s)) throw new Error(`"${s}" is not an unsigned integer`);
      const v = protoInt64.uParse(s);
      return longAsString ? v.toString() : v;
    }
    case ScalarType.FLOAT:
    case ScalarType.DOUBLE: {
      if (s === "NaN") return NaN;
      if (s === "Infinity") return Infinity;
      if (s === "-Infinity") return -Infinity;
      const n = Number(s);
      if (s.trim() === "" || Number.isNaN(n)) throw new Error(`"${s}" is not a number`);
      if (type === ScalarType.FLOAT && Number.isFinite(n) && Math.abs(n) > 3.4028234663852886e38) {
        throw new Error(`"${s}" is out of range for float`);
      }
      return n;
    }
    case ScalarType.BYTES:
      try {
        return base64Decode(s);
      } catch {
        throw new Error(`"${s}" is not base64`);
      }
  }
}

function parseInt32(s: string, min: number, max: number, pattern: RegExp): number {
  if (!pattern.test(s)) throw new Error(`"${s}" is not an integer`);
  const n = Number(s);
  if (n < min || n > max) throw new Error(`${s} is out of range`);
  return n;
}

/** An enum value by name, or by number (any int32, open enums keep unknown numbers). */
export function parseEnum(desc: DescEnum, s: string): number {
  const byName = desc.values.find((v) => v.name === s);
  if (byName !== undefined) return byName.number;
  if (int32Pattern.test(s)) return parseInt32(s, -0x80000000, 0x7fffffff, int32Pattern);
  throw new Error(`"${s}" is not a value of ${desc.typeName}`);
}

/** A well-known type from its JSON string form (Timestamp, Duration, FieldMask, wrappers...). */
function parseMessage(desc: DescMessage, s: string): Message {
  if (isWrapperDesc(desc)) {
    const [valueField] = desc.fields;
    return create(desc, {
      value: parseScalar(valueField.scalar, s, valueField.longAsString),
    });
  }
  switch (desc.typeName) {
    case "google.protobuf.Timestamp":
    case "google.protobuf.Duration":
    case "google.protobuf.FieldMask":
      return fromJson(desc, s);
    case "google.protobuf.Value": {
      // JSON text when it parses (what the kratos-ts client sends), else a plain string.
      let json: JsonValue;
      try {
        json = JSON.parse(s) as JsonValue;
      } catch {
        json = s;
      }
      return fromJson(desc, json);
    }
    case "google.protobuf.Struct":
    case "google.protobuf.ListValue":
      return fromJson(desc, JSON.parse(s) as JsonValue);
    default:
      throw new Error(
        `${desc.typeName} cannot be bound from a string; bind its fields (name.field=...)`,
      );
  }
}

/** Field paths already bound elsewhere (path variables, the body field): query keys skip them. */
export type BoundPaths = ReadonlySet<string>;

/**
 * Binds URL-encoded pairs (a query string or a form body) into a message. Unknown keys are
 * ignored, as Kratos does; keys of fields bound elsewhere are ignored too (the path wins).
 */
export function bindPairs(
  desc: DescMessage,
  message: Message,
  params: URLSearchParams,
  skip: BoundPaths,
  source: string,
): void {
  const grouped = new Map<string, string[]>();
  for (const [key, value] of params) {
    const list = grouped.get(key);
    if (list === undefined) grouped.set(key, [value]);
    else list.push(value);
  }
  for (const [key, values] of grouped) {
    const chain = resolveQueryKey(desc, key);
    if (chain === undefined) continue;
    const canonical = chain.map((f) => f.name).join(".");
    if (isSkipped(canonical, skip)) continue;
    bindStrings(message, chain, values, source, key);
  }
}

function isSkipped(path: string, skip: BoundPaths): boolean {
  if (skip.has(path)) return true;
  for (const s of skip) if (path.startsWith(s + ".")) return true;
  return false;
}

const keyCache = new WeakMap<DescMessage, Map<string, DescField[] | null>>();

function resolveQueryKey(desc: DescMessage, key: string): DescField[] | undefined {
  let cache = keyCache.get(desc);
  if (cache === undefined) {
    cache = new Map();
    keyCache.set(desc, cache);
  }
  let chain = cache.get(key);
  if (chain === undefined) {
    try {
      chain = resolveFieldPath(desc, key.split("."));
    } catch {
      chain = null;
    }
    // Bounded: a client sending endless distinct keys must not grow memory without limit.
    if (cache.size < 1000) cache.set(key, chain);
  }
  return chain ?? undefined;
}
