import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createContext } from "kratos-ts/context";
import type { Context } from "kratos-ts/context";
import { KratosError, notFound, serviceUnavailable } from "kratos-ts/errors";
import { setCallTraits, setClientTransport } from "kratos-ts/transport";
import { markNotSent } from "../../src/transport/not-sent.js";
import { abortableSleep } from "../../src/internal/abortable-sleep.js";
import { backoffDelay, resolveBackoff } from "../../src/middleware/retry-backoff.js";
import { createRetryBudget, resolveRetryBudget } from "../../src/middleware/retry-budget.js";
import { resolveRetryOptions, retry } from "../../src/middleware/retry.js";
import type { RetryOptions, RetryRuntime } from "../../src/middleware/retry.js";
import { testMeters } from "../helpers/metric-reader.js";
import { transportFor } from "../helpers/telemetry.js";

const operation = "/echo.v1.EchoService/Say";

/** A client context: transport, traits, and an optional deadline. */
function clientCtx(idempotent: boolean, timeoutMs?: number, replayable = true): Context {
  const ctx = createContext(timeoutMs === undefined ? {} : { timeoutMs });
  setClientTransport(ctx, transportFor("http", operation));
  setCallTraits(ctx, { idempotent, replayable });
  return ctx;
}

/** A handler that throws `errors` in turn, then answers "ok"; counts its calls. */
function flaky(...errors: Error[]) {
  const state = { calls: 0 };
  const handler = (): Promise<unknown> => {
    const err = errors[state.calls++];
    return err === undefined ? Promise.resolve("ok") : Promise.reject(err);
  };
  return { state, handler };
}

/** A retry runtime on a still clock with no waiting; records the waits asked for. */
function runtime(extra: RetryRuntime = {}): RetryRuntime & { waits: number[] } {
  const waits: number[] = [];
  return {
    now: () => 1_000_000,
    random: () => 0.5,
    sleep: (ms) => {
      waits.push(ms);
      return Promise.resolve();
    },
    waits,
    ...extra,
  };
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    return String(await p);
  } catch (err) {
    assert.ok(err instanceof KratosError, String(err));
    return `${err.code} ${err.reason}`;
  }
}

const down = () => serviceUnavailable("DOWN", "down");

describe("backoff", () => {
  const table: { jitter: "full" | "equal"; retry: number; random: number; want: number }[] = [
    { jitter: "full", retry: 1, random: 0.5, want: 50 },
    { jitter: "full", retry: 2, random: 0.5, want: 100 },
    { jitter: "full", retry: 3, random: 0.999, want: 399.6 },
    { jitter: "full", retry: 9, random: 0.5, want: 500 }, // capped at max
    { jitter: "equal", retry: 1, random: 0, want: 50 },
    { jitter: "equal", retry: 1, random: 0.5, want: 75 },
    { jitter: "equal", retry: 9, random: 0, want: 500 },
  ];
  for (const { jitter, retry: n, random, want } of table) {
    it(`${jitter} jitter, retry ${n}, random ${random}: ${want} ms`, () => {
      const b = resolveBackoff({ base: 100, max: 1000, multiplier: 2, jitter });
      assert.equal(Math.round(backoffDelay(b, n, random) * 10) / 10, want);
    });
  }

  it("rejects bad options with the option's name", () => {
    assert.throws(() => resolveBackoff({ base: -1 }), /backoff\.base -1/);
    assert.throws(() => resolveBackoff({ base: 10, max: 5 }), /backoff\.max 5/);
    assert.throws(() => resolveBackoff({ multiplier: 0.5 }), /backoff\.multiplier/);
    assert.throws(
      () => resolveBackoff({ jitter: "none" as "full" }),
      /backoff\.jitter "none" is not "full" or "equal"/,
    );
  });

  it("an abort during the sleep rejects at once and leaves no timer", async () => {
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
    const before = timers();
    const controller = new AbortController();
    const sleeping = abortableSleep(60_000, controller.signal);
    assert.equal(timers(), before + 1);
    controller.abort(new Error("gone"));
    await assert.rejects(sleeping, /gone/);
    assert.equal(timers(), before);
  });
});

describe("retry budget", () => {
  it("allows ratio x calls plus the reserve, then refuses until the window moves on", () => {
    let t = 0;
    const budget = createRetryBudget(1_000, () => t);
    const options = resolveRetryBudget({ ratio: 0.2, minPerSecond: 1, window: 1_000 });
    for (let i = 0; i < 10; i++) budget.deposit();
    // 0.2 x 10 calls + 1 per second x 1 s = 3 retries.
    assert.deepEqual(
      Array.from({ length: 4 }, () => budget.withdraw(options)),
      [true, true, true, false],
    );
    t += 1_000;
    assert.equal(budget.withdraw(options), true, "the reserve is back in a new window");
  });

  it("with no reserve and no calls, refuses every retry", () => {
    const budget = createRetryBudget(1_000, () => 0);
    assert.equal(budget.withdraw(resolveRetryBudget({ ratio: 1, minPerSecond: 0 })), false);
  });

  it("rejects bad options with the option's name", () => {
    assert.throws(() => resolveRetryBudget({ ratio: -0.1 }), /budget\.ratio -0\.1/);
    assert.throws(() => resolveRetryBudget({ minPerSecond: Number.NaN }), /budget\.minPerSecond/);
    assert.throws(() => resolveRetryBudget({ window: 0 }), /budget\.window 0/);
  });
});

describe("retry options", () => {
  it("takes HTTP codes and gRPC code names", () => {
    const o = resolveRetryOptions({ codes: [502, "UNAVAILABLE", "RESOURCE_EXHAUSTED"] });
    assert.deepEqual([...o.codes].sort(), [429, 502, 503]);
    assert.deepEqual([...resolveRetryOptions().codes], [503]);
  });

  const bad: [RetryOptions, RegExp][] = [
    [{ attempts: 0 }, /retry: attempts 0 is not an integer >= 1/],
    [{ attempts: 1.5 }, /attempts 1\.5/],
    [{ codes: [200] }, /code 200 is not an error status/],
    [{ codes: ["UNAVAILIBLE"] }, /code "UNAVAILIBLE" is not a gRPC code name/],
    [{ backoff: { max: -1 } }, /backoff\.max/],
  ];
  for (const [options, message] of bad) {
    it(`refuses ${JSON.stringify(options)}`, () => {
      assert.throws(() => retry.client(options), message);
    });
  }

  it("refuses a kept budget whose window differs", () => {
    const budget = createRetryBudget(5_000);
    assert.throws(
      () => retry.client({}, { budget }),
      /counts over 5000 ms, budget.window says 10000/,
    );
  });
});

describe("retry middleware", () => {
  it("retries 503 on an idempotent call with growing waits, then answers", async () => {
    const { state, handler } = flaky(down(), down());
    const rt = runtime();
    const out = await codeOf(retry.client({}, rt)(handler)(clientCtx(true), {}));
    assert.equal(out, "ok");
    assert.equal(state.calls, 3);
    assert.deepEqual(rt.waits, [12.5, 25]); // full jitter, random 0.5: half of 25, of 50
  });

  it("gives up after `attempts` and throws the last failure", async () => {
    const { state, handler } = flaky(down(), down(), down(), down());
    const out = await codeOf(
      retry.client({ attempts: 3 }, runtime())(handler)(clientCtx(true), {}),
    );
    assert.equal(out, "503 DOWN");
    assert.equal(state.calls, 3);
  });

  it("does not retry codes outside `codes`", async () => {
    const { state, handler } = flaky(notFound("GONE", "gone"));
    const out = await codeOf(retry.client({}, runtime())(handler)(clientCtx(true), {}));
    assert.equal(out, "404 GONE");
    assert.equal(state.calls, 1);
  });

  it("does not retry a non-idempotent call that may have reached the server", async () => {
    const { state, handler } = flaky(down());
    assert.equal(
      await codeOf(retry.client({}, runtime())(handler)(clientCtx(false), {})),
      "503 DOWN",
    );
    assert.equal(state.calls, 1);
  });

  it("retries it when the options say so", async () => {
    const { state, handler } = flaky(down());
    const mw = retry.client({ nonIdempotent: true }, runtime());
    assert.equal(await codeOf(mw(handler)(clientCtx(false), {})), "ok");
    assert.equal(state.calls, 2);
  });

  it("always retries a request that was never sent, even a non-idempotent one", async () => {
    const refused = markNotSent(new Error("connect ECONNREFUSED"));
    const { state, handler } = flaky(refused);
    assert.equal(await codeOf(retry.client({}, runtime())(handler)(clientCtx(false), {})), "ok");
    assert.equal(state.calls, 2);
  });

  it("does not retry a stream", async () => {
    const { state, handler } = flaky(down());
    const ctx = clientCtx(true, undefined, false);
    assert.equal(await codeOf(retry.client({}, runtime())(handler)(ctx, {})), "503 DOWN");
    assert.equal(state.calls, 1);
  });

  it("does not start a retry whose backoff ends past the deadline", async () => {
    let t = 0;
    const { state, handler } = flaky(down(), down(), down());
    // random 0.999: waits of ~100 then ~200 ms; the deadline is 250 ms away.
    const rt = runtime({
      now: () => t,
      random: () => 0.999,
      sleep: (ms) => {
        t += ms;
        return Promise.resolve();
      },
    });
    const mw = retry.client({ attempts: 5, backoff: { base: 100, max: 1000 } }, rt);
    const ctx = clientCtx(true, 250);
    t = (ctx.deadline ?? 0) - 250;
    assert.equal(await codeOf(mw(handler)(ctx, {})), "503 DOWN");
    assert.equal(state.calls, 2, "the second wait (~200 ms) would end past the deadline");
  });

  it("a cancel during the backoff ends the call at once with the cancellation", async () => {
    const controller = new AbortController();
    const ctx = createContext({ signal: controller.signal });
    setClientTransport(ctx, transportFor("grpc", operation));
    setCallTraits(ctx, { idempotent: true, replayable: true });
    let calls = 0;
    const handler = () => {
      calls++;
      // Cancel once the first attempt failed and the (one hour) backoff has begun.
      setImmediate(() => {
        controller.abort(new KratosError(499, "", "client cancelled"));
      });
      return Promise.reject(down());
    };
    const mw = retry.client({ backoff: { base: 3_600_000, max: 3_600_000 } }, { random: () => 1 });
    assert.equal(await codeOf(mw(handler)(ctx, {})), "499 ");
    assert.equal(calls, 1);
  });

  it("stops at the budget and counts retries and refusals", async () => {
    const meters = testMeters();
    const mw = retry.client(
      { name: "flaky", budget: { ratio: 0.5, minPerSecond: 0 } },
      runtime({ meterProvider: meters.meterProvider }),
    );
    let calls = 0;
    const handler = () => {
      calls++;
      return Promise.reject(down());
    };
    for (let i = 0; i < 10; i++) await codeOf(mw(handler)(clientCtx(true), {}));
    // Half a retry per call: 5 retries over 10 calls, not 20.
    assert.equal(calls, 15);
    const labels = { operation, rule: "flaky" };
    assert.equal(await meters.value("client_retries_total", labels), 5);
    assert.equal(await meters.value("client_retry_budget_exhausted_total", labels), 10);
  });
});
