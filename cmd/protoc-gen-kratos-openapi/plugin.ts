import type { DescEnum, DescField, DescFile, DescMessage, DescMethod } from "@bufbuild/protobuf";
import { isWrapperDesc } from "@bufbuild/protobuf/wkt";
import { createEcmaScriptPlugin, getComments } from "@bufbuild/protoplugin";
import type { Schema } from "@bufbuild/protoplugin";
import { stringify } from "yaml";
import { packageVersion } from "../../src/internal/package-version.js";
import { stringFormTypes } from "../../src/http-rule/field-path.js";
import { parsePathTemplate } from "../../src/http-rule/path-template.js";
import { fileErrorValues } from "../internal/error-values.js";
import { annotatedMethods, bindingName, compileBinding } from "../internal/http-bindings.js";
import { GeneratorError } from "../internal/source-location.js";
import { fieldConstraints } from "./constraints.js";
import { segmentsPattern, segmentsSource } from "./path-variables.js";
import { errorSchema, jsonTextTypes, scalarSchema, wellKnown } from "./json-schema.js";
import type { JsonSchema } from "./json-schema.js";
import type { Binding } from "../internal/http-bindings.js";

/**
 * protoc-gen-kratos-openapi: one OpenAPI 3.1 document (`openapi.yaml`) for every service with
 * `google.api.http` rules in the files of a buf generate run. Bindings are read and checked by
 * the same code as protoc-gen-kratos-http, so the document describes exactly the routes the
 * server serves; schemas follow the proto3 JSON mapping.
 */
export const protocGenKratosOpenapi = createEcmaScriptPlugin({
  name: "protoc-gen-kratos-openapi",
  version: `v${packageVersion()}`,
  generateTs,
});

/** The Kratos error body: what every error response carries. */
const errorSchemaName = "kratos.Error";

function generateTs(schema: Schema): void {
  const doc = new OpenApiDocument();
  for (const file of schema.files) doc.addFile(file);
  if (doc.empty) return;
  const f = schema.generateFile("openapi.yaml");
  f.print(doc.toYaml().trimEnd());
}

class OpenApiDocument {
  readonly #paths = new Map<string, Record<string, unknown>>();
  /** The binding that holds each `method path` of the document. */
  readonly #operations = new Map<string, string>();
  readonly #operationIds = new Set<string>();
  readonly #schemas = new Map<string, JsonSchema>();
  readonly #tags: { name: string; description?: string }[] = [];
  readonly #reasons = new Set<string>();
  readonly #titles: string[] = [];

  get empty(): boolean {
    return this.#paths.size === 0;
  }

  addFile(file: DescFile): void {
    for (const { value } of fileErrorValues(file)) this.#reasons.add(value.name);
    for (const service of file.services) {
      const methods = annotatedMethods(service);
      if (methods.length === 0) continue;
      this.#titles.push(service.typeName);
      this.#tags.push({ name: service.typeName, ...describe(getComments(service).leading) });
      for (const { method, bindings } of methods) {
        bindings.forEach((binding, i) => {
          this.#addOperation(method, binding, i);
        });
      }
    }
  }

  #addOperation(method: DescMethod, binding: Binding, index: number): void {
    const compiled = compileBinding(method, binding);
    const template = parsePathTemplate(binding.path);
    let path = "";
    const parameters: JsonSchema[] = [];
    const placeholders = new Set<string>();
    for (const part of template.parts) {
      if (part.kind === "variable") {
        const name = part.fieldPath.join(".");
        // compileBinding resolved every path variable to a non-empty field chain.
        const leaf = compiled.pathFields.get(name)?.at(-1);
        if (leaf === undefined) throw new Error(`path variable ${name} has no field`);
        const rest = part.segments.some((s) => s.kind === "rest");
        if (!rest && (part.segments.length > 1 || part.segments[0]?.kind === "literal")) {
          // `{name=shelves/*/books/*}`: OpenAPI clients percent-encode a parameter's slashes,
          // and the router matches the literal segments, so the document spells them out and
          // gives each `*` a parameter of its own: /shelves/{shelves_id}/books/{books_id}.
          const source = `{${name}=${segmentsSource(part.segments)}}`;
          part.segments.forEach((segment, i) => {
            if (segment.kind === "literal") {
              path += `/${segment.value}`;
              return;
            }
            const before = part.segments[i - 1];
            let placeholder =
              before?.kind === "literal" ? `${before.value}_id` : `${name}_${String(i + 1)}`;
            for (let n = 2; placeholders.has(placeholder); n++) placeholder += `_${String(n)}`;
            placeholders.add(placeholder);
            path += `/{${placeholder}}`;
            parameters.push({
              name: placeholder,
              in: "path",
              required: true,
              description:
                before?.kind === "literal"
                  ? `Part of \`${name}\` (\`${source}\`): the segment after \`${before.value}/\`.`
                  : `Part of \`${name}\` (\`${source}\`): segment ${String(i + 1)}.`,
              schema: { type: "string" },
            });
          });
          continue;
        }
        placeholders.add(name);
        path += `/{${name}}`;
        parameters.push({
          name,
          in: "path",
          required: true,
          ...describe(getComments(leaf).leading),
          // A `**` variable spans segments: OpenAPI cannot spell that out, so a pattern says it.
          schema: rest
            ? { type: "string", pattern: segmentsPattern(part.segments) }
            : { ...this.#fieldSchema(leaf, true), ...fieldConstraints(leaf).keywords },
        });
      } else {
        path += `/${part.kind === "literal" ? part.value : part.kind === "single" ? "*" : "**"}`;
      }
    }
    // A template of just "/" has no parts.
    if (path === "") path = "/";
    if (template.verb !== undefined) path += `:${template.verb}`;
    if (!compiled.wholeBody) {
      for (const q of this.#queryParameters(method.input, "", compiled.bound, new Set())) {
        parameters.push(q);
      }
    }
    const key = binding.method.toLowerCase();
    this.#claim(method, index, path, key);
    const operation: Record<string, unknown> = {
      tags: [method.parent.typeName],
      operationId: this.#operationId(method, index),
      ...describe(getComments(method).leading),
    };
    if (parameters.length > 0) operation["parameters"] = parameters;
    // Raw google.api.HttpBody bodies are bytes: their message gets no schema of its own.
    const binary = { "*/*": { schema: { type: "string", format: "binary" } } };
    if (compiled.wholeBody || compiled.bodyField !== undefined) {
      operation["requestBody"] = {
        required: true,
        content: compiled.rawBody
          ? binary
          : {
              "application/json": {
                schema: compiled.wholeBody
                  ? this.#messageRef(method.input)
                  : this.#fieldSchema(compiled.bodyField as DescField, false),
              },
            },
      };
    }
    operation["responses"] = {
      "200": {
        description: "OK",
        content: compiled.rawReply
          ? binary
          : {
              "application/json": {
                schema:
                  compiled.responseField === undefined
                    ? this.#messageRef(method.output)
                    : this.#fieldSchema(compiled.responseField, false),
              },
            },
      },
      default: {
        description: "An error: the Kratos error body.",
        content: { "application/json": { schema: { $ref: ref(errorSchemaName) } } },
      },
    };
    const entry = this.#paths.get(path) ?? {};
    // OpenAPI 3.1 names the standard methods only; a custom one (`custom: {kind: "SEARCH"}`)
    // goes in an extension field of the path item, so the document stays valid.
    entry[openapiMethods.has(key) ? key : `x-http-method-${key}`] = operation;
    this.#paths.set(path, entry);
  }

  /**
   * Takes a path and method for a binding. Routes the server tells apart can still meet in the
   * document: `{name=**}` and `{name=shelves/**}` are both `/v1/{name}`, and OpenAPI holds one
   * operation per path and method. Overwriting one would silently drop an operation, so
   * generation fails instead.
   */
  #claim(method: DescMethod, index: number, path: string, httpMethod: string): void {
    const key = `${httpMethod} ${path}`;
    const who = bindingName(method, index === 0 ? undefined : index - 1);
    const owner = this.#operations.get(key);
    if (owner !== undefined) {
      throw new GeneratorError(
        method,
        `${who}: its OpenAPI operation ${httpMethod.toUpperCase()} ${path} is also ${owner}'s; OpenAPI holds one operation per path and method`,
      );
    }
    this.#operations.set(key, who);
  }

  /** `Service_Method` (`_1`, `_2` for additional bindings), qualified by package if taken. */
  #operationId(method: DescMethod, index: number): string {
    const suffix = index === 0 ? "" : `_${String(index)}`;
    const short = `${method.parent.name}_${method.name}${suffix}`;
    let id = this.#operationIds.has(short)
      ? `${method.parent.typeName.replaceAll(".", "_")}_${method.name}${suffix}`
      : short;
    for (let n = 2; this.#operationIds.has(id); n++) id = `${short}_${String(n)}`;
    this.#operationIds.add(id);
    return id;
  }

  /** The fields the server binds from the query: the rest of the input, nested as `a.b`. */
  #queryParameters(
    message: DescMessage,
    prefix: string,
    bound: Set<string>,
    seen: Set<string>,
  ): JsonSchema[] {
    const out: JsonSchema[] = [];
    for (const field of message.fields) {
      const name = prefix + field.name;
      if (bound.has(name) || field.fieldKind === "map") continue;
      // The server's rule (binding.ts): wrappers and the string-form well-known types are one
      // value; any other message, Any and Empty included, is spread into `field.sub` keys.
      const nested =
        field.fieldKind === "message" &&
        !isWrapperDesc(field.message) &&
        !stringFormTypes.has(field.message.typeName)
          ? field.message
          : undefined;
      if (nested !== undefined) {
        // Nested fields are query keys of their own; a message that contains itself stops here.
        if (seen.has(nested.typeName)) continue;
        out.push(
          ...this.#queryParameters(nested, `${name}.`, bound, new Set([...seen, message.typeName])),
        );
        continue;
      }
      const c = fieldConstraints(field);
      const schema = { ...this.#fieldSchema(field, true), ...c.keywords };
      // Struct, ListValue and Value travel as JSON text: `content` says so, where a `schema`
      // would have clients spread an object into form keys.
      const jsonText = field.fieldKind === "message" && jsonTextTypes.has(field.message.typeName);
      out.push({
        name,
        in: "query",
        ...(c.required ? { required: true } : {}),
        ...describe(getComments(field).leading),
        ...(jsonText ? { content: { "application/json": { schema } } } : { schema }),
        ...(field.fieldKind === "list" ? { style: "form", explode: true } : {}),
      });
    }
    return out;
  }

  #messageRef(message: DescMessage): JsonSchema {
    const known = wellKnown.get(message.typeName);
    if (known !== undefined) return known;
    if (!this.#schemas.has(message.typeName)) {
      // Placed before the fields are read, so recursive messages end in a $ref.
      const schema: JsonSchema = { type: "object" };
      this.#schemas.set(message.typeName, schema);
      Object.assign(schema, describe(getComments(message).leading));
      const properties: Record<string, JsonSchema> = {};
      const required: string[] = [];
      for (const field of message.fields) {
        const c = fieldConstraints(field);
        properties[field.jsonName] = {
          ...this.#fieldSchema(field, false),
          ...c.keywords,
          ...c.property,
        };
        if (c.required) required.push(field.jsonName);
      }
      schema["properties"] = properties;
      if (required.length > 0) schema["required"] = required;
    }
    return { $ref: ref(message.typeName) };
  }

  #enumRef(e: DescEnum): JsonSchema {
    if (e.typeName === "google.protobuf.NullValue") return { type: "null" };
    if (!this.#schemas.has(e.typeName)) {
      this.#schemas.set(e.typeName, {
        type: "string",
        ...describe(getComments(e).leading),
        enum: e.values.map((v) => v.name),
      });
    }
    return { $ref: ref(e.typeName) };
  }

  /** The JSON schema of a field's value; `bare` leaves out the description (parameters). */
  #fieldSchema(field: DescField, bare: boolean): JsonSchema {
    let schema: JsonSchema;
    switch (field.fieldKind) {
      case "scalar":
        schema = scalarSchema(field.scalar);
        break;
      case "enum":
        schema = this.#enumRef(field.enum);
        break;
      case "message":
        schema = this.#messageRef(field.message);
        break;
      case "list":
        schema = {
          type: "array",
          items:
            field.listKind === "scalar"
              ? scalarSchema(field.scalar)
              : field.listKind === "enum"
                ? this.#enumRef(field.enum)
                : this.#messageRef(field.message),
        };
        break;
      case "map":
        schema = {
          type: "object",
          additionalProperties:
            field.mapKind === "scalar"
              ? scalarSchema(field.scalar)
              : field.mapKind === "enum"
                ? this.#enumRef(field.enum)
                : this.#messageRef(field.message),
        };
        break;
    }
    if (bare) return schema;
    const description = describe(getComments(field).leading);
    // A $ref with siblings is valid in 3.1; keep the field's own comment beside it.
    return { ...schema, ...description };
  }

  toYaml(): string {
    const schemas: Record<string, JsonSchema> = {
      [errorSchemaName]: errorSchema([...this.#reasons].sort()),
    };
    for (const name of [...this.#schemas.keys()].sort()) {
      schemas[name] = this.#schemas.get(name) as JsonSchema;
    }
    const doc = {
      openapi: "3.1.0",
      info: {
        title: this.#titles.join(", "),
        version: "0.0.1",
        description: "Generated by protoc-gen-kratos-openapi from the google.api.http bindings.",
      },
      tags: this.#tags,
      paths: Object.fromEntries(this.#paths),
      components: { schemas },
    };
    return stringify(doc, { lineWidth: 0, aliasDuplicateObjects: false });
  }
}

const openapiMethods = new Set([
  "get",
  "put",
  "post",
  "delete",
  "options",
  "head",
  "patch",
  "trace",
]);

function ref(name: string): string {
  return `#/components/schemas/${name}`;
}

/** `{ description }` from a proto comment, or nothing. */
function describe(comment: string | undefined): { description?: string } {
  const text = comment
    ?.split("\n")
    .map((l) => l.replace(/^ /, ""))
    .join("\n")
    .trim();
  return text === undefined || text === "" ? {} : { description: text };
}
