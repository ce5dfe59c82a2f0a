import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createContext } from "kratos-ts/context";
import { KratosError } from "kratos-ts/errors";
import type { Logger } from "kratos-ts/log";
import { recovery } from "kratos-ts/middleware";
import type { Handler } from "kratos-ts/middleware";
import { NodeHeader, setServerTransport } from "kratos-ts/transport";

/** A logger that keeps its error lines (the only level recovery writes). */
function recordingLogger(): Logger & { errors: Record<string, unknown>[] } {
  const errors: Record<string, unknown>[] = [];
  const logger: Logger & { errors: Record<string, unknown>[] } = {
    errors,
    debug: () => undefined,
    info: () => undefined,
    warn: () => undefined,
    error: (fields: object | string, msg?: string) => {
      errors.push(typeof fields === "string" ? { msg: fields } : { ...fields, msg });
    },
    child: () => logger,
  };
  return logger;
}

function serverCtx() {
  const ctx = createContext();
  setServerTransport(ctx, {
    kind: "grpc",
    endpoint: "grpc://127.0.0.1:1",
    operation: "/helloworld.v1.Greeter/SayHello",
    requestHeader: new NodeHeader({}),
    replyHeader: new NodeHeader({}),
  });
  return ctx;
}

const throwing =
  (err: unknown): Handler =>
  () =>
    Promise.reject(err);

describe("recovery", () => {
  it("turns a bug into 500 UNKNOWN and logs it once with the stack and operation", async () => {
    const log = recordingLogger();
    const handler = recovery({ logger: log })(throwing(new TypeError("x is undefined")));
    await assert.rejects(handler(serverCtx(), {}), (err) => {
      assert.ok(err instanceof KratosError);
      assert.equal(err.code, 500);
      assert.equal(err.reason, "UNKNOWN");
      assert.equal(err.message, "unknown request error", "internals do not leak to the client");
      return true;
    });
    assert.equal(log.errors.length, 1);
    assert.equal(log.errors.at(0)?.["operation"], "/helloworld.v1.Greeter/SayHello");
    assert.equal(log.errors.at(0)?.["err"], "x is undefined");
    assert.match(String(log.errors.at(0)?.["stack"]), /TypeError: x is undefined\n\s+at /);
  });

  it("recovers from a synchronous throw and from a non-Error value", async () => {
    const log = recordingLogger();
    const sync: Handler = () => {
      throw new Error("sync");
    };
    await assert.rejects(recovery({ logger: log })(sync)(serverCtx(), {}), { reason: "UNKNOWN" });
    await assert.rejects(recovery({ logger: log })(throwing("a string"))(serverCtx(), {}), {
      reason: "UNKNOWN",
    });
    assert.equal(log.errors.length, 2);
  });

  const passing: [string, unknown, number, string][] = [
    ["a typed error", new KratosError(404, "GREETING_NOT_FOUND", "no"), 404, "GREETING_NOT_FOUND"],
    [
      "a typed error wrapped as a cause",
      new Error("wrapped", { cause: new KratosError(409, "CONFLICT", "dup") }),
      409,
      "CONFLICT",
    ],
    ["a cancellation", new DOMException("gone", "AbortError"), 499, ""],
    ["a deadline", new DOMException("late", "TimeoutError"), 504, ""],
  ];
  for (const [name, thrown, code, reason] of passing) {
    it(`lets ${name} through without logging it`, async () => {
      const log = recordingLogger();
      await assert.rejects(recovery({ logger: log })(throwing(thrown))(serverCtx(), {}), (err) => {
        assert.ok(err instanceof KratosError);
        assert.deepEqual([err.code, err.reason], [code, reason]);
        return true;
      });
      assert.equal(log.errors.length, 0);
    });
  }

  it("uses the handler option to build the client's error", async () => {
    const handler = recovery({
      handler: (_ctx, err) => new KratosError(503, "BUSY", String(err)),
    })(throwing(new Error("boom")));
    await assert.rejects(handler(serverCtx(), {}), { code: 503, reason: "BUSY" });
  });

  it("returns the reply untouched when nothing throws", async () => {
    const handler = recovery()(() => Promise.resolve({ message: "hi" }));
    assert.deepEqual(await handler(createContext(), {}), { message: "hi" });
  });
});
