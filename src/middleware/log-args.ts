import { isMessage, toJson, toJsonString } from "@bufbuild/protobuf";
import type { DescMessage, Message } from "@bufbuild/protobuf";
import type { Context } from "../context.js";
import { requestSchema } from "../transport/transport.js";

const secretKey = /pass(word)?|secret|token|authorization|api_?key|credential|private_?key/i;

// Well-known types whose JSON has keys that no descriptor names (a Struct's, an Any's payload).
const openJson = new Set([
  "google.protobuf.Struct",
  "google.protobuf.Value",
  "google.protobuf.ListValue",
  "google.protobuf.Any",
]);

/**
 * The call log's default `args`: the request as proto JSON (or plain JSON) with the values of
 * secret-looking keys (password, secret, token, authorization, api key...) replaced by
 * `[REDACTED]`, cut to `max` characters.
 */
export function defaultArgs(req: unknown, ctx: Context, max: number): string | undefined {
  if (req === undefined) return undefined;
  const schema = requestSchema(ctx);
  let text: string | undefined;
  if (schema !== undefined && isMessage(req, schema)) {
    // Most request types have no key to redact: write their JSON at once, without a replacer
    // walking every value (the info line is on the hot path of a service logging every call).
    text = mayHoldSecrets(schema)
      ? redactedJson(toJson(schema, req as Message))
      : toJsonString(schema, req as Message);
  } else if (typeof req === "object" && req !== null && Symbol.asyncIterator in req) {
    return "[stream]";
  } else {
    text = redactedJson(req);
  }
  if (text === undefined) return undefined;
  return text.length > max ? `${text.slice(0, max)}...(${text.length} chars)` : text;
}

function redactedJson(value: unknown): string | undefined {
  // Undefined for values JSON cannot hold (a function).
  return JSON.stringify(value, redact);
}

function redact(key: string, value: unknown): unknown {
  if (key !== "" && secretKey.test(key)) return "[REDACTED]";
  return typeof value === "bigint" ? value.toString() : value;
}

const secretsBySchema = new WeakMap<DescMessage, boolean>();

/**
 * Whether a message's JSON can have a secret-looking key: a field named like one at any depth,
 * a map (its keys are data), or a well-known type with free-form keys. Decided once per type.
 */
function mayHoldSecrets(schema: DescMessage): boolean {
  let holds = secretsBySchema.get(schema);
  if (holds === undefined) {
    holds = reaches(schema, new Set());
    secretsBySchema.set(schema, holds);
  }
  return holds;
}

/**
 * One walk over the types reachable from `schema`, each looked at once: a type met again is
 * either still being looked at (a cycle: its other fields decide) or found clean, and any
 * secret found ends the walk. Linear in the number of fields, however the types refer to each
 * other.
 */
function reaches(schema: DescMessage, seen: Set<DescMessage>): boolean {
  if (openJson.has(schema.typeName)) return true;
  if (seen.has(schema)) return false;
  seen.add(schema);
  const known = secretsBySchema.get(schema);
  if (known !== undefined) return known;
  return schema.fields.some((field) => {
    if (secretKey.test(field.name) || secretKey.test(field.jsonName)) return true;
    if (field.fieldKind === "map") return true;
    const nested =
      field.fieldKind === "message" || field.fieldKind === "list" ? field.message : undefined;
    return nested !== undefined && reaches(nested, seen);
  });
}
