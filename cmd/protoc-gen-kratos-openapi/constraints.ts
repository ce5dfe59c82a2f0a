// buf.validate rules and google.api.field_behavior as JSON-schema keywords, where they map.
import { getOption, hasOption } from "@bufbuild/protobuf";
import type { DescField } from "@bufbuild/protobuf";
import { field as validateField } from "@bufbuild/protovalidate/gen/buf/validate/validate_pb.js";
import type { FieldRules } from "@bufbuild/protovalidate/gen/buf/validate/validate_pb.js";
import {
  FieldBehavior,
  field_behavior as fieldBehavior,
} from "../../src/gen/google/api/field_behavior_pb.js";

type Json = Record<string, unknown>;

/** What a field's annotations add to its schema and to its message's `required` list. */
export interface FieldConstraints {
  /** Keywords for the field's value schema (minLength, pattern, minimum, minItems, ...). */
  keywords: Json;
  /** Keywords for the property itself (readOnly, writeOnly). */
  property: Json;
  required: boolean;
}

/** Set explicitly (proto2 optional fields keep their defaults on the prototype). */
function has(message: object, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(message, key);
}

function num(value: number | bigint): number {
  return Number(value);
}

/** The constraints of a field, from buf.validate and field_behavior. */
export function fieldConstraints(field: DescField): FieldConstraints {
  const keywords: Json = {};
  const property: Json = {};
  let required = false;
  if (hasOption(field, fieldBehavior)) {
    const behaviors = getOption(field, fieldBehavior);
    if (behaviors.includes(FieldBehavior.REQUIRED)) required = true;
    if (behaviors.includes(FieldBehavior.OUTPUT_ONLY)) property["readOnly"] = true;
    if (behaviors.includes(FieldBehavior.INPUT_ONLY)) property["writeOnly"] = true;
  }
  if (hasOption(field, validateField)) {
    const rules = getOption(field, validateField);
    if (rules.required) required = true;
    Object.assign(keywords, ruleKeywords(field, rules));
  }
  return { keywords, property, required };
}

function ruleKeywords(field: DescField, rules: FieldRules): Json {
  const out: Json = {};
  const type = rules.type;
  switch (type.case) {
    case "string": {
      const r = type.value;
      if (has(r, "len")) out["minLength"] = out["maxLength"] = num(r.len);
      if (has(r, "minLen")) out["minLength"] = num(r.minLen);
      if (has(r, "maxLen")) out["maxLength"] = num(r.maxLen);
      if (has(r, "pattern")) out["pattern"] = r.pattern;
      if (has(r, "const")) out["const"] = r.const;
      if (r.in.length > 0) out["enum"] = [...r.in];
      switch (r.wellKnown.case) {
        case "email":
        case "hostname":
        case "uri":
        case "uuid":
        case "ipv4":
        case "ipv6":
          if (r.wellKnown.value) out["format"] = r.wellKnown.case;
          break;
        default:
          break;
      }
      return out;
    }
    case "int32":
    case "sint32":
    case "sfixed32":
    case "uint32":
    case "fixed32":
    case "float":
    case "double": {
      // JSON numbers: the ranges map as they are.
      const r = type.value;
      if (r.greaterThan.case === "gt") out["exclusiveMinimum"] = num(r.greaterThan.value);
      if (r.greaterThan.case === "gte") out["minimum"] = num(r.greaterThan.value);
      if (r.lessThan.case === "lt") out["exclusiveMaximum"] = num(r.lessThan.value);
      if (r.lessThan.case === "lte") out["maximum"] = num(r.lessThan.value);
      if (has(r, "const")) out["const"] = num(r.const);
      if (r.in.length > 0) out["enum"] = r.in.map(num);
      return out;
    }
    case "enum": {
      const r = type.value;
      const e = field.fieldKind === "enum" || field.fieldKind === "list" ? field.enum : undefined;
      const names = (numbers: number[]) =>
        numbers.flatMap((n) => {
          const v = e?.value[n];
          return v === undefined ? [] : [v.name];
        });
      if (r.in.length > 0) out["enum"] = names(r.in);
      if (has(r, "const")) out["const"] = names([r.const])[0];
      return out;
    }
    case "repeated": {
      const r = type.value;
      if (has(r, "minItems")) out["minItems"] = num(r.minItems);
      if (has(r, "maxItems")) out["maxItems"] = num(r.maxItems);
      if (r.unique) out["uniqueItems"] = true;
      return out;
    }
    case "map": {
      const r = type.value;
      if (has(r, "minPairs")) out["minProperties"] = num(r.minPairs);
      if (has(r, "maxPairs")) out["maxProperties"] = num(r.maxPairs);
      return out;
    }
    default:
      // 64-bit integers are JSON strings: numeric ranges do not apply to them; bytes are
      // base64, whose length is not the byte length. Neither maps.
      return out;
  }
}
