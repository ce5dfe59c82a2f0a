import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as errors from "kratos-ts/errors";
import { KratosError } from "kratos-ts/errors";

describe("KratosError", () => {
  it("carries code, reason, message, metadata and cause", () => {
    const cause = new Error("db down");
    const err = new KratosError(503, "DB", "try later", { metadata: { shard: "2" }, cause });
    assert.equal(err.code, 503);
    assert.equal(err.reason, "DB");
    assert.equal(err.message, "try later");
    assert.deepEqual(err.metadata, { shard: "2" });
    assert.equal(err.cause, cause);
    assert.equal(err.name, "KratosError");
    assert.ok(err instanceof Error);
    assert.ok(Object.isFrozen(err.metadata));
  });

  it("copies on withMetadata and withCause", () => {
    const err = errors.notFound("USER_NOT_FOUND", "no user");
    const withMd = err.withMetadata({ id: "7" });
    assert.deepEqual(err.metadata, {});
    assert.deepEqual(withMd.metadata, { id: "7" });
    assert.equal(withMd.reason, "USER_NOT_FOUND");
    const cause = new Error("x");
    const withCause = withMd.withCause(cause);
    assert.equal(withCause.cause, cause);
    assert.deepEqual(withCause.metadata, { id: "7" });
    assert.equal(withMd.cause, undefined);
  });

  it("serializes to the Kratos JSON body", () => {
    const err = errors.notFound("USER_NOT_FOUND", "no user");
    assert.equal(
      JSON.stringify(err),
      '{"code":404,"reason":"USER_NOT_FOUND","message":"no user","metadata":{}}',
    );
  });

  it("is recognised by instanceof across duplicate module copies", async () => {
    // A query string makes Node load a second, independent instance of the module.
    const url = new URL("../../src/errors/error.js?copy=2", import.meta.url).href;
    const copy = (await import(url)) as typeof import("kratos-ts/errors");
    assert.notEqual(copy.KratosError, KratosError);
    const foreign = new copy.KratosError(404, "R", "m");
    assert.ok(foreign instanceof KratosError);
    assert.ok(new KratosError(400, "R", "m") instanceof copy.KratosError);
    assert.equal(errors.fromError(foreign), foreign);
    assert.ok(!(new Error("plain") instanceof KratosError));
    assert.ok(!({ code: 1 } instanceof KratosError));
  });

  it("keeps ordinary instanceof for subclasses", () => {
    class MyError extends KratosError {}
    assert.ok(new MyError(400, "R", "m") instanceof MyError);
    assert.ok(!(new KratosError(400, "R", "m") instanceof MyError));
    assert.ok(new MyError(400, "R", "m") instanceof KratosError);
  });
});

describe("status helpers", () => {
  const table = [
    { make: errors.badRequest, is: errors.isBadRequest, code: 400 },
    { make: errors.unauthorized, is: errors.isUnauthorized, code: 401 },
    { make: errors.forbidden, is: errors.isForbidden, code: 403 },
    { make: errors.notFound, is: errors.isNotFound, code: 404 },
    { make: errors.conflict, is: errors.isConflict, code: 409 },
    { make: errors.tooManyRequests, is: errors.isTooManyRequests, code: 429 },
    { make: errors.clientClosed, is: errors.isClientClosed, code: 499 },
    { make: errors.internalServer, is: errors.isInternalServer, code: 500 },
    { make: errors.serviceUnavailable, is: errors.isServiceUnavailable, code: 503 },
    { make: errors.gatewayTimeout, is: errors.isGatewayTimeout, code: 504 },
  ];
  for (const { make, is, code } of table) {
    it(`${make.name} makes ${code} and ${is.name} recognises only ${code}`, () => {
      const err = make("SOME_REASON", "text", { metadata: { k: "v" } });
      assert.equal(err.code, code);
      assert.equal(err.reason, "SOME_REASON");
      assert.equal(err.message, "text");
      assert.deepEqual(err.metadata, { k: "v" });
      assert.ok(is(err));
      for (const other of table) {
        if (other.code !== code) assert.ok(!is(other.make("R", "m")), `${is.name}(${other.code})`);
      }
      assert.ok(!is(null));
      assert.ok(!is(undefined));
    });
  }
  it("treats unknown errors as internal server errors", () => {
    assert.ok(errors.isInternalServer(new Error("boom")));
  });
});

describe("is, code and reason", () => {
  it("compares code AND reason", () => {
    const target = errors.notFound("USER_NOT_FOUND", "a");
    assert.ok(errors.is(errors.notFound("USER_NOT_FOUND", "other message"), target));
    assert.ok(!errors.is(errors.notFound("ORDER_NOT_FOUND", "a"), target));
    assert.ok(!errors.is(errors.badRequest("USER_NOT_FOUND", "a"), target));
    assert.ok(!errors.is(null, target));
    assert.ok(target.is(errors.notFound("USER_NOT_FOUND", "b")));
    assert.ok(!target.is(new Error("USER_NOT_FOUND")));
  });

  it("code(null) is 200 and reason(null) is empty", () => {
    assert.equal(errors.code(null), 200);
    assert.equal(errors.code(undefined), 200);
    assert.equal(errors.reason(null), "");
    assert.equal(errors.code(errors.conflict("C", "m")), 409);
    assert.equal(errors.reason(errors.conflict("C", "m")), "C");
    assert.equal(errors.code(new Error("x")), 500);
    assert.equal(errors.reason(new Error("x")), "");
  });
});

describe("fromError", () => {
  const kratos = errors.forbidden("NO", "denied");
  const plain = new Error("boom");
  const throwing = new Proxy(new Error("p"), {
    get() {
      throw new Error("getter exploded");
    },
  });
  const cases: { name: string; input: unknown; code: number; reason: string; message: string }[] = [
    { name: "a KratosError", input: kratos, code: 403, reason: "NO", message: "denied" },
    {
      name: "a KratosError wrapped as a cause",
      input: new Error("outer", { cause: new Error("middle", { cause: kratos }) }),
      code: 403,
      reason: "NO",
      message: "denied",
    },
    { name: "a plain Error", input: plain, code: 500, reason: "", message: "boom" },
    {
      name: "an AbortError",
      input: new DOMException("aborted", "AbortError"),
      code: 499,
      reason: "",
      message: "aborted",
    },
    {
      name: "a TimeoutError",
      input: new DOMException("late", "TimeoutError"),
      code: 504,
      reason: "",
      message: "late",
    },
    { name: "a string", input: "just text", code: 500, reason: "", message: "just text" },
    { name: "a number", input: 42, code: 500, reason: "", message: "unknown error" },
    { name: "an object", input: { code: 404 }, code: 500, reason: "", message: "unknown error" },
    { name: "null", input: null, code: 500, reason: "", message: "unknown error" },
    { name: "a throwing proxy", input: throwing, code: 500, reason: "", message: "unknown error" },
  ];
  for (const c of cases) {
    it(`converts ${c.name}`, () => {
      const err = errors.fromError(c.input);
      assert.ok(err instanceof KratosError);
      assert.deepEqual(
        { code: err.code, reason: err.reason, message: err.message },
        { code: c.code, reason: c.reason, message: c.message },
      );
    });
  }
  it("returns a KratosError as the same object and keeps others as the cause", () => {
    assert.equal(errors.fromError(kratos), kratos);
    assert.equal(errors.fromError(plain).cause, plain);
  });
  it("uses the Kratos unknown code and reason", () => {
    assert.equal(errors.unknownCode, 500);
    assert.equal(errors.unknownReason, "");
  });
});
