import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createContext } from "kratos-ts/context";
import { badRequest, internalServer, KratosError } from "kratos-ts/errors";
import { setServerTransport } from "kratos-ts/transport";
import { circuitBreaker } from "../../src/middleware/circuitbreaker.js";
import { testMeters } from "../helpers/metric-reader.js";
import { transportFor } from "../helpers/telemetry.js";

const operation = "/echo.v1.EchoService/Say";

function call(
  h: (ctx: ReturnType<typeof createContext>, req: unknown) => Promise<unknown>,
  op = operation,
) {
  const ctx = createContext();
  setServerTransport(ctx, transportFor("http", op));
  return h(ctx, {}).then(
    () => "200",
    (err: unknown) => {
      assert.ok(err instanceof KratosError);
      return `${err.code} ${err.reason}`;
    },
  );
}

describe("server circuit breaker", () => {
  it("opens on 5xx, rejects without calling the handler, per operation, and counts", async () => {
    const meters = testMeters();
    let t = 0;
    let hits = 0;
    let fail: Error | undefined = internalServer("DB", "db down");
    const handler = () => {
      hits++;
      return fail === undefined ? Promise.resolve({}) : Promise.reject(fail);
    };
    const h = circuitBreaker.server(
      { minRequests: 10, window: 1_000, name: "db" },
      { now: () => t, random: () => 0, meterProvider: meters.meterProvider },
    )(handler);
    for (let i = 0; i < 10; i++) assert.equal(await call(h), "500 DB");
    assert.equal(await call(h), "503 CIRCUITBREAKER");
    assert.equal(hits, 10);
    // Another operation has its own breaker.
    fail = undefined;
    assert.equal(await call(h, "/echo.v1.EchoService/Other"), "200");
    assert.equal(await meters.value("server_breaker_rejected_total", { operation, rule: "db" }), 1);
    // The failures age out of the window: calls go through again.
    t += 2_000;
    assert.equal(await call(h), "200");
  });

  it("does not count 4xx as failures", async () => {
    let hits = 0;
    const handler = () => {
      hits++;
      return Promise.reject(badRequest("BAD", "bad"));
    };
    const h = circuitBreaker.server({ minRequests: 5 }, { now: () => 0, random: () => 0 })(handler);
    for (let i = 0; i < 20; i++) assert.equal(await call(h), "400 BAD");
    assert.equal(hits, 20);
  });

  it("refuses bad options", () => {
    assert.throws(() => circuitBreaker.server({ k: 0.5 }), /k 0\.5/);
    assert.throws(
      () => circuitBreaker.server({ scope: "x" as "rule" }),
      /scope "x" is not "operation" or "rule"/,
    );
  });
});
