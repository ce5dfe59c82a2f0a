// The layout's committed api/openapi.yaml: a valid OpenAPI 3.1 document (checked by a validator
// nobody here wrote), and a true one: every operation it describes, sent to the running layout
// service, answers with a body that matches the response schema it promises.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Validator } from "@seriousme/openapi-schema-validator";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { parse } from "yaml";
import { repoRoot, tempDir } from "../helpers/repo.js";
import { startService, writeLayoutConfig } from "../helpers/service.js";

type Json = Record<string, unknown>;

interface Parameter {
  name: string;
  in: string;
  schema: Json;
}

interface Operation {
  operationId: string;
  parameters?: Parameter[];
  requestBody?: { content: Record<string, { schema: Json }> };
  responses: Record<string, { content?: Record<string, { schema: Json }> }>;
}

const text = readFileSync(join(repoRoot, "api", "openapi.yaml"), "utf8");
const doc = parse(text) as { paths: Record<string, Record<string, Operation>>; components: Json };

/** A value of a parameter's schema, as the URL carries it. */
function sample(schema: Json): string {
  if (schema["type"] === "integer" || schema["format"] === "int64") return "1";
  if (schema["type"] === "boolean") return "true";
  return "kratos";
}

/** A JSON body for a request schema: `sample` for each string property, enough for the layout. */
function sampleBody(schema: Json): string {
  const ref = schema["$ref"];
  const name = typeof ref === "string" ? ref.replace("#/components/schemas/", "") : "";
  const schemas = doc.components["schemas"] as Record<string, Json>;
  const properties = (schemas[name] ?? schema)["properties"] as Record<string, Json> | undefined;
  const body: Record<string, string> = {};
  for (const [key, property] of Object.entries(properties ?? {})) {
    if (property["type"] === "string") body[key] = sample(property);
  }
  return JSON.stringify(body);
}

/** Response schemas resolve against the document's components. */
function responseValidator() {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats.default(ajv);
  for (const format of ["int32", "int64", "uint64", "float", "double", "byte"]) {
    ajv.addFormat(format, true);
  }
  ajv.addSchema({ $id: "openapi", components: doc.components });
  return (schema: Json, body: unknown) => {
    const rooted = JSON.parse(
      JSON.stringify(schema).replaceAll('"#/components/', '"openapi#/components/'),
    ) as Json;
    const validate = ajv.compile(rooted);
    const ok = validate(body);
    return ok ? undefined : ajv.errorsText(validate.errors);
  };
}

describe("the layout's openapi.yaml", () => {
  const dir = tempDir("kratos-ts-openapi-");
  let service: Awaited<ReturnType<typeof startService>>;

  before(async () => {
    writeLayoutConfig(dir.path);
    // The dev config turns the document on; here, the env override of the same key does.
    service = await startService(["-conf", join(dir.path, "configs")], dir.path, {
      HELLOWORLD_SERVER__HTTP__OPENAPI: "true",
    });
  });

  after(async () => {
    service.child.kill("SIGTERM");
    await service.exited;
    dir.remove();
  });

  it("is a valid OpenAPI 3.1 document", async () => {
    const result = await new Validator().validate(parse(text) as Record<string, object>);
    assert.equal(result.valid, true, JSON.stringify(result.errors, null, 2));
  });

  it("describes what the server answers, operation by operation", async () => {
    const check = responseValidator();
    let calls = 0;
    const operations = Object.entries(doc.paths).flatMap(([template, methods]) =>
      Object.entries(methods).map(([method, op]) => ({ template, method, op })),
    );
    // Writes first, so that reads find what they ask for (GET /v1/greetings/1 reads the
    // greeting that POST /v1/greetings stored).
    operations.sort(
      (a, b) => Number(b.op.requestBody !== undefined) - Number(a.op.requestBody !== undefined),
    );
    for (const { template, method, op } of operations) {
      let path = template;
      for (const p of op.parameters ?? []) {
        if (p.in === "path")
          path = path.replace(`{${p.name}}`, encodeURIComponent(sample(p.schema)));
      }
      const bodySchema = op.requestBody?.content["application/json"]?.schema;
      const body = bodySchema === undefined ? undefined : sampleBody(bodySchema);
      const res = await fetch(new URL(path, service.http), {
        method: method.toUpperCase(),
        ...(body === undefined ? {} : { body, headers: { "content-type": "application/json" } }),
      });
      const reply = (await res.json()) as Json;
      assert.equal(res.status, 200, `${op.operationId}: ${JSON.stringify(reply)}`);
      const schema = op.responses["200"]?.content?.["application/json"]?.schema;
      assert.ok(schema !== undefined, `${op.operationId}: no response for status 200`);
      const error = check(schema, reply);
      assert.equal(error, undefined, `${op.operationId}: ${error ?? ""}`);
      calls++;
    }
    assert.ok(calls >= 3, `${calls} operations`);
  });

  it("describes errors too: an unknown greeting is the Kratos error body", async () => {
    const check = responseValidator();
    const res = await fetch(new URL("/v1/greetings/999999", service.http));
    assert.equal(res.status, 404);
    const op = doc.paths["/v1/greetings/{id}"]?.["get"];
    const schema = op?.responses["default"]?.content?.["application/json"]?.schema;
    assert.ok(schema !== undefined);
    const body = (await res.json()) as Json;
    assert.equal(check(schema, body), undefined);
    assert.equal(body["reason"], "GREETING_NOT_FOUND");
    // The schema is strict enough to fail a body that is not the error shape.
    assert.notEqual(check(schema, { code: "404" }), undefined);
  });

  it("is served at GET /openapi.yaml when server.http.openapi is on, and not otherwise", async () => {
    const res = await fetch(new URL("/openapi.yaml", service.http));
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "application/yaml");
    assert.equal(await res.text(), text);
    const plain = await startService(["-conf", join(dir.path, "configs")], dir.path);
    try {
      const off = await fetch(new URL("/openapi.yaml", plain.http));
      assert.equal(off.status, 404);
      assert.equal(((await off.json()) as Json)["reason"], "NOT_FOUND");
    } finally {
      plain.child.kill("SIGTERM");
      await plain.exited;
    }
  });
});
