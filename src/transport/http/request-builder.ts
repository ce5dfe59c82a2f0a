import { create, isFieldSet, ScalarType, toJson, toJsonString } from "@bufbuild/protobuf";
import type { DescEnum, DescField, DescMessage, JsonObject, Message } from "@bufbuild/protobuf";
import { base64Encode } from "@bufbuild/protobuf/wire";
import { isWrapperDesc } from "@bufbuild/protobuf/wkt";
import { KratosError } from "../../errors/error.js";
import { reasons } from "../../errors/reasons.js";
import { stringFormTypes } from "../../http-rule/field-path.js";
import type { TemplateSegment } from "../../http-rule/path-template.js";
import type { CompiledRoute } from "../../http-rule/compile.js";

/**
 * The client side of binding: the URL path and query of a request message for a route. Path
 * variables are filled by field (any spelling of the template works: Kratos #2857), path and
 * body fields never repeat in the query (#2193), and every other set field goes to the query
 * (#2069), so the server rebuilds exactly the message the caller passed.
 */
export function buildPathAndQuery(route: CompiledRoute, message: Message): string {
  let path = "";
  for (const part of route.template.parts) {
    if (part.kind !== "variable") {
      if (part.kind !== "literal") {
        throw new KratosError(
          400,
          reasons.codec,
          `${route.route.operation}: ${route.route.path} has an unnamed wildcard a client cannot fill`,
        );
      }
      path += "/" + part.value;
      continue;
    }
    const chain = route.pathFields.get(part.fieldPath.join("."));
    const value = chain === undefined ? undefined : readPath(message, chain);
    if (value === undefined || value === "") {
      throw new KratosError(
        400,
        reasons.codec,
        `path parameter "${part.fieldPath.join(".")}" of ${route.route.operation} is empty`,
      );
    }
    path += "/" + encodeVariable(part.fieldPath.join("."), part.segments, value);
  }
  if (path === "") path = "/";
  if (route.template.verb !== undefined) path += ":" + route.template.verb;
  if (route.wholeBody) return path;
  const params = new URLSearchParams();
  appendQuery(params, route.route.input, message, "", "", route.bound);
  const query = params.toString();
  return query === "" ? path : `${path}?${query}`;
}

function segmentText(segment: TemplateSegment): string {
  return segment.kind === "literal" ? segment.value : segment.kind === "single" ? "*" : "**";
}

/** The string form of the scalar or enum at the end of a field chain, or undefined when unset. */
function readPath(message: Message, chain: readonly DescField[]): string | undefined {
  let current: unknown = message;
  for (const field of chain) {
    if (current === undefined) return undefined;
    current = fieldValue(current as Record<string, unknown>, field);
  }
  const leaf = chain[chain.length - 1];
  if (leaf === undefined || current === undefined) return undefined;
  return leaf.fieldKind === "enum"
    ? enumText(leaf.enum, current as number)
    : leaf.fieldKind === "scalar"
      ? scalarText(leaf.scalar, current)
      : undefined;
}

function fieldValue(target: Record<string, unknown>, field: DescField): unknown {
  if (field.oneof === undefined) return target[field.localName];
  const oneof = target[field.oneof.localName] as { case?: string; value?: unknown } | undefined;
  return oneof?.case === field.localName ? oneof.value : undefined;
}

function scalarText(type: ScalarType, value: unknown): string {
  if (type === ScalarType.BYTES) return base64Encode(value as Uint8Array);
  return String(value);
}

/**
 * Encodes a variable's value. A one-segment variable escapes "/" too; a multi-segment one
 * (`{name=shelves/*}`) keeps its slashes and must match its pattern, or the server could not
 * route the request.
 */
function encodeVariable(name: string, segments: readonly TemplateSegment[], value: string): string {
  const only = segments[0];
  if (segments.length === 1 && only?.kind === "single") return encodeURIComponent(value);
  const pieces = value.split("/");
  const rest = segments[segments.length - 1]?.kind === "rest";
  const fixed = rest ? segments.length - 1 : segments.length;
  const fits =
    (rest ? pieces.length >= fixed : pieces.length === fixed) &&
    segments.slice(0, fixed).every((s, i) => {
      const piece = pieces[i] ?? "";
      return s.kind === "literal" ? piece === s.value : piece !== "";
    });
  if (!fits) {
    const pattern = segments.map(segmentText).join("/");
    throw new KratosError(
      400,
      reasons.codec,
      `path parameter "${name}" = "${value}" does not match ${pattern}`,
    );
  }
  return pieces.map(encodeURIComponent).join("/");
}

/** Appends every set field of `message` not in `skip` (proto paths) as `jsonPath=value` pairs. */
function appendQuery(
  params: URLSearchParams,
  desc: DescMessage,
  message: Message,
  protoPrefix: string,
  jsonPrefix: string,
  skip: ReadonlySet<string>,
): void {
  const target = message as unknown as Record<string, unknown>;
  for (const field of desc.fields) {
    const protoPath = protoPrefix + field.name;
    if (skip.has(protoPath) || !isFieldSet(message, field)) continue;
    const key = jsonPrefix + field.jsonName;
    const value = fieldValue(target, field);
    switch (field.fieldKind) {
      case "scalar":
        params.append(key, scalarText(field.scalar, value));
        break;
      case "enum":
        params.append(key, enumText(field.enum, value as number));
        break;
      case "list":
        for (const item of value as unknown[]) {
          if (field.listKind === "scalar") params.append(key, scalarText(field.scalar, item));
          else if (field.listKind === "enum")
            params.append(key, enumText(field.enum, item as number));
          else params.append(key, messageText(field.message, item as Message));
        }
        break;
      case "map":
        // Maps have no query form the server binds; send them in a body instead.
        throw new KratosError(400, reasons.codec, `map field "${key}" cannot travel in the query`);
      case "message":
        if (isWrapperDesc(field.message)) {
          const [inner] = field.message.fields;
          params.append(key, scalarText(inner.scalar, value));
        } else if (isStringForm(field.message)) {
          params.append(key, messageText(field.message, value as Message));
        } else {
          appendQuery(params, field.message, value as Message, `${protoPath}.`, `${key}.`, skip);
        }
        break;
    }
  }
}

function enumText(desc: DescEnum, n: number): string {
  return desc.values.find((v) => v.number === n)?.name ?? String(n);
}

function isStringForm(desc: DescMessage): boolean {
  return stringFormTypes.has(desc.typeName);
}

/** A message as one query value: its JSON form (string for Timestamp and friends). */
function messageText(desc: DescMessage, message: Message): string {
  // A Value is always sent as JSON text, so the string "5" does not come back as the number 5.
  if (desc.typeName === "google.protobuf.Value") return toJsonString(desc, message);
  const json = toJson(desc, message);
  return typeof json === "string" ? json : toJsonString(desc, message);
}

/** The request body of a route, if it has one. */
export function buildBody(
  route: CompiledRoute,
  message: Message,
  encode: (desc: DescMessage, message: Message) => Uint8Array | string,
): { body: Uint8Array | string; contentType: string | undefined } | undefined {
  if (route.wholeBody) {
    if (route.rawBody) return rawBody(message);
    return { body: encode(route.route.input, message), contentType: undefined };
  }
  const field = route.bodyField;
  if (field === undefined) return undefined;
  const value = fieldValue(message, field);
  if (field.fieldKind === "message") {
    const sub = (value as Message | undefined) ?? create(field.message);
    if (route.rawBody) return rawBody(sub);
    return { body: encode(field.message, sub), contentType: undefined };
  }
  const json = toJson(route.route.input, message, { alwaysEmitImplicit: true }) as JsonObject;
  return { body: JSON.stringify(json[field.jsonName] ?? null), contentType: "application/json" };
}

function rawBody(message: Message): { body: Uint8Array; contentType: string | undefined } {
  const httpBody = message as unknown as { contentType: string; data: Uint8Array };
  return { body: httpBody.data, contentType: httpBody.contentType || "application/octet-stream" };
}
