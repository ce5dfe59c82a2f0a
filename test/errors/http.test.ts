import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create, toBinary } from "@bufbuild/protobuf";
import * as errors from "kratos-ts/errors";
import { KratosError } from "kratos-ts/errors";
import { StatusSchema } from "kratos-ts/gen/errors/errors_pb.js";

describe("toHttpError", () => {
  it("writes the status and the Kratos JSON body", () => {
    const res = errors.toHttpError(
      errors.notFound("USER_NOT_FOUND", "no user", { metadata: { id: "3" } }),
    );
    assert.equal(res.status, 404);
    assert.equal(
      res.body,
      '{"code":404,"reason":"USER_NOT_FOUND","message":"no user","metadata":{"id":"3"}}',
    );
  });

  it("always emits every field, as Kratos's proto JSON with EmitUnpopulated does", () => {
    const res = errors.toHttpError(new KratosError(500, "", ""));
    assert.equal(res.body, '{"code":500,"reason":"","message":"","metadata":{}}');
  });

  for (const code of [0, 99, 600, 1000, -1, 404.5]) {
    it(`answers 500 for code ${code}, which cannot be an HTTP status`, () => {
      const res = errors.toHttpError(new KratosError(code, "R", "m"));
      assert.equal(res.status, 500);
      assert.equal((JSON.parse(res.body) as { code: number }).code, code);
    });
  }

  it("encodes binary errors.Status for protobuf clients", () => {
    const err = errors.forbidden("NO", "denied", { metadata: { a: "b" } });
    const bytes = errors.toStatusBinary(err);
    const back = errors.fromHttpResponse(403, bytes, "application/x-protobuf");
    assert.deepEqual(back?.toStatus(), err.toStatus());
  });
});

describe("fromHttpResponse", () => {
  it("returns undefined for 2xx", () => {
    for (const status of [200, 201, 204, 299])
      assert.equal(errors.fromHttpResponse(status, ""), undefined);
  });

  it("round-trips every field through the JSON body", () => {
    const sent = new KratosError(422, "UNPROCESSABLE", "bad input", {
      metadata: { field: "name" },
    });
    const { status, body } = errors.toHttpError(sent);
    assert.deepEqual(errors.fromHttpResponse(status, body)?.toStatus(), sent.toStatus());
  });

  it("lets the HTTP status win over the body's code, as Kratos's client does", () => {
    const err = errors.fromHttpResponse(503, '{"code":404,"reason":"R","message":"m"}');
    assert.ok(err);
    assert.equal(err.code, 503);
    assert.equal(err.reason, "R");
    assert.deepEqual(err.metadata, {});
  });

  it("ignores unknown fields", () => {
    const err = errors.fromHttpResponse(400, '{"reason":"R","message":"m","extra":true}');
    assert.deepEqual(err?.toStatus(), { code: 400, reason: "R", message: "m", metadata: {} });
  });

  it("reads a body given as bytes", () => {
    const err = errors.fromHttpResponse(409, new TextEncoder().encode('{"reason":"DUP"}'));
    assert.equal(err?.reason, "DUP");
  });

  const bad: [string, string | Uint8Array, string?][] = [
    ["an empty body", ""],
    ["plain text", "Bad Gateway"],
    ["a JSON array", "[1,2]"],
    ["metadata that is not a string map", '{"reason":"R","metadata":{"a":1}}'],
    ["a reason that is not a string", '{"reason":5}'],
    ["broken protobuf", new Uint8Array([0x0a, 0xff]), "application/x-protobuf"],
  ];
  for (const [name, body, contentType] of bad) {
    it(`never throws on ${name}: status code, empty reason, cause set`, () => {
      const err = errors.fromHttpResponse(502, body, contentType);
      assert.ok(err instanceof KratosError);
      assert.equal(err.code, 502);
      assert.equal(err.reason, "");
      assert.ok(err.cause instanceof Error);
    });
  }

  it("reads binary bodies for every protobuf media type the codec negotiates", () => {
    const bytes = errors.toStatusBinary(errors.notFound("GONE", "m"));
    for (const type of [
      "application/x-protobuf",
      "application/proto",
      "application/vnd.google.protobuf",
    ]) {
      assert.equal(errors.fromHttpResponse(404, bytes, type)?.reason, "GONE", type);
    }
  });

  it("decodes errors.Status written by another implementation", () => {
    const bytes = toBinary(
      StatusSchema,
      create(StatusSchema, { code: 404, reason: "GONE", message: "m" }),
    );
    assert.equal(errors.fromHttpResponse(404, bytes, "application/x-protobuf")?.reason, "GONE");
  });
});
