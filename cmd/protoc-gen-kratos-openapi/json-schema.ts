// JSON Schema of what proto3 JSON writes: scalars, well-known types, and the Kratos error body.
import { ScalarType } from "@bufbuild/protobuf";

/** A JSON Schema object, as the OpenAPI 3.1 document embeds it. */
export type JsonSchema = Record<string, unknown>;

/** proto3 JSON of a scalar: 64-bit integers are strings, bytes are base64. */
export function scalarSchema(type: ScalarType): JsonSchema {
  switch (type) {
    case ScalarType.STRING:
      return { type: "string" };
    case ScalarType.BOOL:
      return { type: "boolean" };
    case ScalarType.BYTES:
      return { type: "string", format: "byte" };
    case ScalarType.DOUBLE:
      return { type: "number", format: "double" };
    case ScalarType.FLOAT:
      return { type: "number", format: "float" };
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      return { type: "string", format: "int64" };
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return { type: "string", format: "uint64" };
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return { type: "integer", format: "int64", minimum: 0, maximum: 4294967295 };
    default:
      return { type: "integer", format: "int32" };
  }
}

const nullable = (schema: JsonSchema): JsonSchema => ({
  ...schema,
  type: [schema["type"] as string, "null"],
});

/** Well-known types a query parameter carries as JSON text (`filter={"a":1}`). */
export const jsonTextTypes: ReadonlySet<string> = new Set([
  "google.protobuf.Struct",
  "google.protobuf.ListValue",
  "google.protobuf.Value",
]);

/** Well-known types in their JSON form. */
export const wellKnown = new Map<string, JsonSchema>([
  ["google.protobuf.Timestamp", { type: "string", format: "date-time" }],
  ["google.protobuf.Duration", { type: "string", pattern: "^-?[0-9]+(\\.[0-9]{1,9})?s$" }],
  ["google.protobuf.FieldMask", { type: "string" }],
  ["google.protobuf.Struct", { type: "object", additionalProperties: true }],
  ["google.protobuf.Value", {}],
  ["google.protobuf.ListValue", { type: "array", items: {} }],
  ["google.protobuf.Empty", { type: "object" }],
  [
    "google.protobuf.Any",
    {
      type: "object",
      properties: { "@type": { type: "string" } },
      required: ["@type"],
      additionalProperties: true,
    },
  ],
  ["google.protobuf.DoubleValue", nullable(scalarSchema(ScalarType.DOUBLE))],
  ["google.protobuf.FloatValue", nullable(scalarSchema(ScalarType.FLOAT))],
  ["google.protobuf.Int64Value", nullable(scalarSchema(ScalarType.INT64))],
  ["google.protobuf.UInt64Value", nullable(scalarSchema(ScalarType.UINT64))],
  ["google.protobuf.Int32Value", nullable(scalarSchema(ScalarType.INT32))],
  ["google.protobuf.UInt32Value", nullable(scalarSchema(ScalarType.UINT32))],
  ["google.protobuf.BoolValue", nullable(scalarSchema(ScalarType.BOOL))],
  ["google.protobuf.StringValue", nullable(scalarSchema(ScalarType.STRING))],
  ["google.protobuf.BytesValue", nullable(scalarSchema(ScalarType.BYTES))],
]);

/** The Kratos error body, with the reasons of the services' error enums. */
export function errorSchema(reasons: string[]): JsonSchema {
  const reason: JsonSchema = {
    type: "string",
    description:
      reasons.length === 0
        ? "The error reason."
        : `The error reason: one of the service's (${reasons.join(", ")}) or a framework reason.`,
  };
  if (reasons.length > 0) reason["examples"] = reasons;
  return {
    type: "object",
    description: "The Kratos error body (code, reason, message, metadata).",
    properties: {
      code: { type: "integer", format: "int32", description: "The HTTP status code." },
      reason,
      message: { type: "string" },
      metadata: { type: "object", additionalProperties: { type: "string" } },
    },
  };
}
