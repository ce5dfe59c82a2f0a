// protoc-gen-kratos-openapi on the bookstore fixture (its output is committed and regenerated
// byte for byte by the protoc-gen-kratos-http golden test): the mappings the document promises.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { Validator } from "@seriousme/openapi-schema-validator";
import { parse } from "yaml";
import { repoRoot } from "../helpers/repo.js";

type Json = Record<string, unknown>;

const text = readFileSync(join(repoRoot, "test/fixtures/http/gen/openapi.yaml"), "utf8");
const doc = parse(text) as Json;

function at(value: unknown, ...path: (string | number)[]): unknown {
  let cur = value;
  for (const key of path) cur = (cur as Record<string | number, unknown> | undefined)?.[key];
  return cur;
}

function parameter(path: string, method: string, name: string): Json | undefined {
  const params = at(doc, "paths", path, method, "parameters") as Json[] | undefined;
  return params?.find((p) => p["name"] === name);
}

const schemas = at(doc, "components", "schemas") as Json;

describe("protoc-gen-kratos-openapi", () => {
  it("writes an OpenAPI 3.1 document with one operation per binding", () => {
    assert.equal(doc["openapi"], "3.1.0");
    assert.equal(at(doc, "paths", "/v1/books/{name}", "get", "operationId"), "Bookstore_GetBook_1");
    assert.equal(
      at(doc, "paths", "/v1/shelves/{shelves_id}/books/{books_id}", "get", "operationId"),
      "Bookstore_GetBook",
    );
    assert.ok(at(doc, "paths", "/v1/books/{id}:cancel", "post"), "custom verb");
    assert.equal(
      at(doc, "paths", "/v1/books/{name}", "get", "description"),
      "A multi-segment variable, and an additional binding with `**`.",
    );
  });

  it("keeps operation ids unique: a service name taken in another package is qualified", () => {
    assert.equal(
      at(doc, "paths", "/v1/catalog/books/{id}", "get", "operationId"),
      "catalog_v1_Bookstore_GetBook",
    );
  });

  it("describes path variables as the server binds them", () => {
    // Literal segments of a variable are spelled out, each `*` gets a parameter: a client that
    // percent-encodes parameters still builds the path the router matches.
    const getBook = "/v1/shelves/{shelves_id}/books/{books_id}";
    assert.deepEqual(parameter(getBook, "get", "books_id"), {
      name: "books_id",
      in: "path",
      required: true,
      description: "Part of `name` (`{name=shelves/*/books/*}`): the segment after `books/`.",
      schema: { type: "string" },
    });
    // `**` spans segments: one parameter with a pattern.
    assert.deepEqual(parameter("/v1/books/{name}", "get", "name")?.["schema"], {
      type: "string",
      pattern: "^.+$",
    });
    assert.deepEqual(parameter("/v1/shelves/{shelf_id}", "get", "shelf_id")?.["schema"], {
      type: "string",
      format: "int64",
    });
    assert.equal(parameter("/v1/books/{book.id}", "patch", "book.id")?.["in"], "path");
  });

  it("binds the remaining fields to the query: nested keys, repeated, enums, well-known types", () => {
    const q = (name: string) => parameter("/v1/echo", "get", name);
    assert.deepEqual(q("i64")?.["schema"], { type: "string", format: "int64" });
    assert.deepEqual(q("by")?.["schema"], { type: "string", format: "byte" });
    assert.deepEqual(q("genre")?.["schema"], { $ref: "#/components/schemas/bookstore.v1.Genre" });
    assert.equal(q("tags")?.["explode"], true);
    assert.equal(q("nested.a")?.["in"], "query");
    assert.equal(q("nested.deep.x")?.["in"], "query");
    assert.deepEqual(q("ts")?.["schema"], { type: "string", format: "date-time" });
    assert.deepEqual(q("wi")?.["schema"], { type: ["integer", "null"], format: "int32" });
    assert.equal(q("nested"), undefined, "a message is its fields, not a parameter");
    // The well-known types as the server binds them.
    const items = (name: string) => parameter("/v1/items", "get", name);
    assert.deepEqual(items("filter")?.["content"], {
      "application/json": { schema: { type: "object", additionalProperties: true } },
    });
    assert.equal(items("filter")?.["schema"], undefined);
    assert.deepEqual(items("hint.type_url")?.["schema"], { type: "string" });
    assert.deepEqual(items("hint.value")?.["schema"], { type: "string", format: "byte" });
    assert.equal(items("hint"), undefined, "Any is its fields");
    const listed = (at(doc, "paths", "/v1/items", "get", "parameters") as Json[]).map(
      (p) => p["name"],
    );
    assert.ok(!listed.some((n) => String(n).startsWith("nothing")), "Empty binds nothing");
    // Path fields are never repeated in the query; a body "*" takes no query at all.
    assert.equal(parameter("/v1/shelves/{shelf_id}", "get", "shelf_id")?.["in"], "path");
    const create = at(doc, "paths", "/v1/shelves/{shelf_id}/books", "post", "parameters") as Json[];
    assert.ok(create.every((p) => p["in"] === "path" || p["name"] === "request_id"));
  });

  it("maps bodies: the whole request, a field, a response field, raw HttpBody", () => {
    assert.deepEqual(
      at(doc, "paths", "/v1/shelves/{shelf_id}/books", "post", "requestBody", "content"),
      { "application/json": { schema: { $ref: "#/components/schemas/bookstore.v1.Book" } } },
    );
    assert.deepEqual(at(doc, "paths", "/v1/files/{path}", "post", "requestBody", "content"), {
      "*/*": { schema: { type: "string", format: "binary" } },
    });
    // Raw bodies are bytes: nothing refers to an HttpBody schema, so none is written.
    assert.equal(schemas["google.api.HttpBody"], undefined);
  });

  it("follows the proto3 JSON mapping in schemas", () => {
    assert.deepEqual(at(schemas, "bookstore.v1.Genre", "enum"), [
      "GENRE_UNSPECIFIED",
      "GENRE_FICTION",
      "GENRE_HISTORY",
    ]);
    const book = at(schemas, "bookstore.v1.Book", "properties") as Json;
    assert.deepEqual(book["createTime"], { type: "string", format: "date-time" });
    assert.deepEqual(book["authors"], { type: "array", items: { type: "string" } });
    assert.deepEqual(at(schemas, "bookstore.v1.Shelf", "properties", "id"), {
      type: "string",
      format: "int64",
    });
  });

  it("answers errors with the Kratos error body", () => {
    assert.deepEqual(
      at(doc, "paths", "/v1/echo", "get", "responses", "default", "content", "application/json"),
      { schema: { $ref: "#/components/schemas/kratos.Error" } },
    );
    assert.deepEqual(Object.keys(at(schemas, "kratos.Error", "properties") as Json), [
      "code",
      "reason",
      "message",
      "metadata",
    ]);
  });

  it("is a valid OpenAPI 3.1 document", async () => {
    const result = await new Validator().validate(parse(text) as Record<string, object>);
    assert.equal(result.valid, true, JSON.stringify(result.errors, null, 2));
  });

  it("turns buf.validate rules into JSON-schema keywords", () => {
    const q = (name: string) => parameter("/v1/items", "get", name);
    assert.deepEqual(q("page_size")?.["schema"], {
      type: "integer",
      format: "int32",
      minimum: 1,
      maximum: 100,
    });
    assert.equal(at(q("query"), "schema", "maxLength"), 64);
    assert.equal(at(q("kinds"), "schema", "maxItems"), 3);
    assert.deepEqual(at(q("kind"), "schema", "enum"), ["KIND_BOOK", "KIND_TOOL"]);
    assert.equal(at(parameter("/v1/items/{id}/labels", "get", "id"), "schema", "format"), "uuid");
    const item = at(schemas, "catalog.v1.Item", "properties") as Json;
    assert.deepEqual(item["name"], { type: "string", minLength: 1, pattern: "^[a-z]+$" });
    assert.equal(at(item, "labels", "maxProperties"), 10);
    assert.equal(at(item, "score", "exclusiveMinimum"), 0);
  });

  it("maps field_behavior: REQUIRED to required, OUTPUT_ONLY to readOnly", () => {
    const tenant = parameter("/v1/items", "get", "tenant");
    assert.equal(tenant?.["required"], true);
    assert.equal(at(schemas, "catalog.v1.Item", "properties", "id", "readOnly"), true);
    // field_behavior REQUIRED and buf.validate required alike.
    assert.deepEqual(at(schemas, "catalog.v1.Item", "required"), ["name", "kind"]);
  });

  it("maps oneofs, maps and the remaining well-known types", () => {
    const item = at(schemas, "catalog.v1.Item", "properties") as Json;
    assert.deepEqual(item["cents"], { type: "string", format: "int64" });
    assert.deepEqual(item["freeText"], { type: "string" });
    assert.deepEqual(item["attributes"], { type: "object", additionalProperties: true });
    assert.deepEqual(at(item, "extension", "required"), ["@type"]);
    assert.equal(at(item, "ttl", "type"), "string");
    assert.deepEqual(item["mask"], { type: "string" });
    assert.deepEqual(item["extra"], {});
    assert.deepEqual(item["tags"], { type: "array", items: {} });
    assert.deepEqual(item["aliases"], {
      type: "array",
      items: { type: "string" },
      minItems: 1,
      uniqueItems: true,
    });
    assert.deepEqual(at(item, "children", "additionalProperties"), {
      $ref: "#/components/schemas/catalog.v1.Item",
    });
    assert.deepEqual(
      at(doc, "paths", "/v1/ping", "get", "responses", "200", "content", "application/json"),
      { schema: { type: "object" } },
    );
    // response_body: the labels map is the whole response.
    assert.deepEqual(
      at(doc, "paths", "/v1/items/{id}/labels", "get", "responses", "200", "content"),
      {
        "application/json": {
          schema: { type: "object", additionalProperties: { type: "string" } },
        },
      },
    );
    // body: "item" is the request body.
    assert.deepEqual(at(doc, "paths", "/v1/items", "post", "requestBody", "content"), {
      "application/json": { schema: { $ref: "#/components/schemas/catalog.v1.Item" } },
    });
  });

  it("lists the reasons of the error enums, nested ones too, as protoc-gen-kratos-errors reads them", () => {
    assert.deepEqual(at(schemas, "kratos.Error", "properties", "reason", "examples"), [
      "ITEM_EXISTS",
      "ITEM_LOCKED",
      "ITEM_NOT_FOUND",
    ]);
  });
});
