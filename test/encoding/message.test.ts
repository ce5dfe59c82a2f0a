// The message codec every transport shares: what a client's bytes become, and what fails how.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create, toBinary } from "@bufbuild/protobuf";
import { HelloRequestSchema } from "../../api/helloworld/v1/greeter_pb.js";
import { decodeMessage, encodeMessage } from "../../src/encoding/message.js";
import { KratosError } from "../../src/errors/error.js";

const text = new TextEncoder();

function codecError(fn: () => unknown): KratosError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof KratosError);
    assert.equal(err.code, 400);
    assert.equal(err.reason, "CODEC");
    return err;
  }
  assert.fail("no error");
}

describe("decodeMessage", () => {
  it("reads proto3 JSON under either name, and binary", () => {
    for (const format of ["json", "protojson"] as const) {
      const m = decodeMessage(HelloRequestSchema, text.encode('{"name":"kratos"}'), format);
      assert.equal(m.name, "kratos");
    }
    const bytes = toBinary(HelloRequestSchema, create(HelloRequestSchema, { name: "bin" }));
    assert.equal(decodeMessage(HelloRequestSchema, bytes, "proto").name, "bin");
  });

  it("rejects invalid UTF-8 in JSON instead of repairing it", () => {
    const bad = Uint8Array.of(...text.encode('{"name":"'), 0xff, 0xfe, ...text.encode('"}'));
    const err = codecError(() => decodeMessage(HelloRequestSchema, bad, "json", { what: "body" }));
    assert.equal(err.message, "cannot decode json body: invalid UTF-8");
  });

  it("reads a blank body as the empty message only when asked to", () => {
    const blank = text.encode(" \n");
    const empty = decodeMessage(HelloRequestSchema, blank, "json", { blankIsEmpty: true });
    assert.equal(empty.name, "");
    const err = codecError(() => decodeMessage(HelloRequestSchema, blank, "json"));
    assert.match(err.message, /^cannot decode json message: /);
  });

  it("drops unknown binary fields instead of keeping them", () => {
    // Field 99, varint 1: unknown to HelloRequest.
    const m = decodeMessage(HelloRequestSchema, Uint8Array.of(0x98, 0x06, 0x01), "proto");
    assert.equal((m as { $unknown?: unknown }).$unknown, undefined);
  });
});

describe("encodeMessage", () => {
  it("writes JSON as a string, with or without zero values, and binary as bytes", () => {
    const init = { name: "" };
    assert.equal(
      encodeMessage(HelloRequestSchema, init, "json", { emitImplicit: true }),
      '{"name":""}',
    );
    assert.equal(
      encodeMessage(HelloRequestSchema, init, "protojson", { emitImplicit: false }),
      "{}",
    );
    const bytes = encodeMessage(HelloRequestSchema, { name: "x" }, "proto", { emitImplicit: true });
    assert.ok(bytes instanceof Uint8Array);
    assert.deepEqual([...bytes], [0x0a, 0x01, 0x78]);
  });
});
