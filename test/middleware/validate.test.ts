import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { createContext } from "kratos-ts/context";
import { KratosError } from "kratos-ts/errors";
import { validate } from "kratos-ts/middleware";
import type { Handler } from "kratos-ts/middleware";
import { setRequestSchema } from "kratos-ts/transport";
import {
  GetGreetingRequestSchema,
  HelloRequestSchema,
} from "../../api/helloworld/v1/greeter_pb.js";

const echo: Handler = (_ctx, req) => Promise.resolve(req);

function ctxFor(schema: Parameters<typeof setRequestSchema>[1]) {
  const ctx = createContext();
  setRequestSchema(ctx, schema);
  return ctx;
}

describe("validate", () => {
  it("passes a valid request to the handler", async () => {
    const req = create(HelloRequestSchema, { name: "kratos" });
    assert.equal(await validate()(echo)(ctxFor(HelloRequestSchema), req), req);
  });

  const invalid: [string, () => [ReturnType<typeof ctxFor>, unknown], string, RegExp][] = [
    [
      "a name over 64 characters",
      () => [ctxFor(HelloRequestSchema), create(HelloRequestSchema, { name: "x".repeat(65) })],
      "name",
      /at most 64 characters/,
    ],
    [
      "an empty name",
      () => [ctxFor(HelloRequestSchema), create(HelloRequestSchema, { name: "" })],
      "name",
      /at least 1 character/,
    ],
    [
      "an id that is not positive",
      () => [ctxFor(GetGreetingRequestSchema), create(GetGreetingRequestSchema, { id: 0n })],
      "id",
      /greater than 0/,
    ],
  ];
  for (const [name, make, field, message] of invalid) {
    it(`answers 400 VALIDATOR naming the field for ${name}`, async () => {
      let called = false;
      const handler = validate()(() => {
        called = true;
        return Promise.resolve();
      });
      const [ctx, req] = make();
      await assert.rejects(handler(ctx, req), (err) => {
        assert.ok(err instanceof KratosError);
        assert.equal(err.code, 400);
        assert.equal(err.reason, "VALIDATOR");
        assert.match(err.metadata[field] ?? "", message);
        assert.match(err.message, new RegExp(`^invalid \\w+: ${field}: `));
        return true;
      });
      assert.equal(called, false, "the handler never sees an invalid request");
    });
  }

  it("lets requests without a message type through (plain handlers, streams)", async () => {
    assert.equal(await validate()(echo)(createContext(), "raw"), "raw");
    const ctx = ctxFor(HelloRequestSchema);
    const stream = (async function* () {})();
    assert.equal(await validate()(echo)(ctx, stream), stream);
  });
});
