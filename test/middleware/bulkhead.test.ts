import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createContext } from "kratos-ts/context";
import type { Context } from "kratos-ts/context";
import { fromError, KratosError } from "kratos-ts/errors";
import { setServerTransport } from "kratos-ts/transport";
import { bulkhead, createBulkheadState } from "../../src/middleware/bulkhead.js";
import type { BulkheadOptions } from "../../src/middleware/bulkhead.js";
import { testMeters } from "../helpers/metric-reader.js";
import { transportFor } from "../helpers/telemetry.js";

const operation = "/echo.v1.EchoService/Say";

function serverCtx(
  init: { signal?: AbortSignal; timeoutMs?: number } = {},
  op = operation,
): Context {
  const ctx = createContext(init);
  setServerTransport(ctx, transportFor("grpc", op));
  return ctx;
}

/** A handler whose calls wait until the test opens them, in any order. */
function gated() {
  const started: string[] = [];
  const gates = new Map<string, () => void>();
  const handler = (_ctx: Context, req: unknown) => {
    const id = req as string;
    started.push(id);
    return new Promise<unknown>((resolve) =>
      gates.set(id, () => {
        resolve(id);
      }),
    );
  };
  const open = (id: string) => {
    const gate = gates.get(id);
    assert.ok(gate, `${id} is not running`);
    gate();
  };
  return { started, handler, open };
}

/** Resolves once `cond` holds, checking after each turn of the event loop. */
async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((resolve) => setImmediate(resolve));
}

async function outcome(p: Promise<unknown>): Promise<string> {
  try {
    return String(await p);
  } catch (err) {
    // The deadline's own error (a TimeoutError) is what the transport turns into a 504.
    const e = fromError(err);
    return `${e.code} ${e.reason}`;
  }
}

describe("bulkhead", () => {
  it("rejects the call over the cap with 429 BULKHEAD_FULL when there is no queue", async () => {
    const meters = testMeters();
    const { handler, open } = gated();
    const h = bulkhead.server({ maxConcurrent: 2, name: "r" }, meters)(handler);
    const a = h(serverCtx(), "a");
    const b = h(serverCtx(), "b");
    assert.equal(await outcome(h(serverCtx(), "c")), "429 BULKHEAD_FULL");
    open("a");
    assert.equal(await a, "a");
    const d = h(serverCtx(), "d");
    open("b");
    open("d");
    assert.deepEqual(await Promise.all([b, d]), ["b", "d"]);
    const labels = { operation, rule: "r", cause: "full" };
    assert.equal(await meters.value("server_bulkhead_rejected_total", labels), 1);
  });

  it("queues in order, admits the oldest waiter first, and rejects past the queue", async () => {
    const meters = testMeters();
    const state = createBulkheadState();
    const { started, handler, open } = gated();
    const h = bulkhead.server(
      { maxConcurrent: 1, maxQueue: 2, maxWait: 60_000 },
      { state, ...meters },
    )(handler);
    const calls = ["a", "b", "c"].map((id) => h(serverCtx(), id));
    await until(() => state.queued(operation) === 2);
    assert.equal(await outcome(h(serverCtx(), "d")), "429 BULKHEAD_FULL");
    for (const id of ["a", "b", "c"]) {
      await until(() => started.includes(id));
      assert.equal(state.inFlight(operation), 1);
      open(id);
    }
    assert.deepEqual(await Promise.all(calls), ["a", "b", "c"]);
    assert.deepEqual(started, ["a", "b", "c"]);
    assert.equal(state.inFlight(operation), 0);
    assert.equal(await meters.value("server_bulkhead_queued_total", { operation }), 2);
    assert.equal(await meters.value("server_bulkhead_queue_seconds", { operation }), 2);
  });

  it("a queued call whose client went away leaves the queue at once", async () => {
    const state = createBulkheadState();
    const { handler, open } = gated();
    const h = bulkhead.server(
      { maxConcurrent: 1, maxQueue: 5, maxWait: 60_000 },
      { state },
    )(handler);
    const a = h(serverCtx(), "a");
    const controller = new AbortController();
    const gone = h(serverCtx({ signal: controller.signal }), "b");
    await until(() => state.queued(operation) === 1);
    controller.abort(new KratosError(499, "", "client went away"));
    assert.equal(await outcome(gone), "499 ");
    assert.equal(state.queued(operation), 0);
    open("a");
    assert.equal(await a, "a");
  });

  it("a queued call waits no longer than maxWait", async () => {
    const { handler, open } = gated();
    const h = bulkhead.server({ maxConcurrent: 1, maxQueue: 1, maxWait: 10 })(handler);
    const a = h(serverCtx(), "a");
    assert.equal(await outcome(h(serverCtx(), "b")), "429 BULKHEAD_FULL");
    open("a");
    await a;
  });

  it("a queued call waits no longer than its deadline", async () => {
    const { handler, open } = gated();
    const h = bulkhead.server({ maxConcurrent: 1, maxQueue: 1, maxWait: 60_000 })(handler);
    const a = h(serverCtx(), "a");
    assert.equal(await outcome(h(serverCtx({ timeoutMs: 10 }), "b")), "504 ");
    open("a");
    await a;
  });

  it("keeps one compartment per operation, or one per rule", async () => {
    const { handler, open } = gated();
    const perOp = bulkhead.server({ maxConcurrent: 1 })(handler);
    const a = perOp(serverCtx(), "a");
    const b = perOp(serverCtx({}, "/other/Op"), "b");
    open("a");
    open("b");
    await Promise.all([a, b]);
    const perRule = bulkhead.server({ maxConcurrent: 1, scope: "rule" })(handler);
    const c = perRule(serverCtx(), "c");
    assert.equal(await outcome(perRule(serverCtx({}, "/other/Op"), "d")), "429 BULKHEAD_FULL");
    open("c");
    await c;
  });

  it("kept state carries in-flight calls over a change of options", async () => {
    const state = createBulkheadState();
    const { handler, open } = gated();
    const before = bulkhead.server({ maxConcurrent: 1 }, { state })(handler);
    const a = before(serverCtx(), "a");
    const after = bulkhead.server({ maxConcurrent: 2 }, { state })(handler);
    const b = after(serverCtx(), "b");
    assert.equal(await outcome(after(serverCtx(), "c")), "429 BULKHEAD_FULL");
    open("a");
    open("b");
    await Promise.all([a, b]);
  });

  const bad: [BulkheadOptions, RegExp][] = [
    [{ maxConcurrent: 0 }, /bulkhead: maxConcurrent 0 is not an integer >= 1/],
    [{ maxConcurrent: 1, maxQueue: -1 }, /maxQueue -1/],
    [{ maxConcurrent: 1, maxWait: -5 }, /maxWait -5/],
    [{ maxConcurrent: 1, scope: "route" as "rule" }, /scope "route" is not "operation" or "rule"/],
  ];
  for (const [options, message] of bad) {
    it(`refuses ${JSON.stringify(options)}`, () => {
      assert.throws(() => bulkhead.server(options), message);
    });
  }
});
