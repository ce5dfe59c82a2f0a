import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createContext, deadlineExceeded } from "kratos-ts/context";
import type { CancellableContext } from "kratos-ts/context";
import { KratosError, notFound } from "kratos-ts/errors";
import type { Handler } from "kratos-ts/middleware";
import { NodeHeader, setClientTransport } from "kratos-ts/transport";
import { circuitBreaker, createSreBreaker } from "../../src/middleware/circuitbreaker.js";
import type { Breaker, SreBreakerOptions } from "../../src/middleware/circuitbreaker.js";
import { testMeters } from "../helpers/metric-reader.js";

/** A clock the test moves by hand. */
function manualClock(start = 0): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return {
    now: () => t,
    advance: (ms) => {
      t += ms;
    },
  };
}

/** Records `count` outcomes: `accepts` successes first, then failures. */
function record(breaker: Breaker, count: number, accepts = 0): void {
  for (let i = 0; i < count; i++) {
    if (i < accepts) breaker.markSuccess();
    else breaker.markFailure();
  }
}

const sreOptions = (clock: { now: () => number }, extra: SreBreakerOptions = {}) => ({
  now: clock.now,
  random: () => 0,
  ...extra,
});

describe("SRE breaker", () => {
  const probabilities: {
    name: string;
    requests: number;
    accepts: number;
    options?: SreBreakerOptions;
    want: number;
  }[] = [
    { name: "nothing recorded", requests: 0, accepts: 0, want: 0 },
    { name: "below minRequests, all failed", requests: 99, accepts: 0, want: 0 },
    { name: "at minRequests, all failed", requests: 100, accepts: 0, want: 100 / 101 },
    { name: "all failed, more requests", requests: 1000, accepts: 0, want: 1000 / 1001 },
    { name: "60% accepted, K 1.5", requests: 100, accepts: 60, want: (100 - 90) / 101 },
    { name: "67% accepted, K 1.5: K * accepts > requests", requests: 100, accepts: 67, want: 0 },
    { name: "all accepted", requests: 500, accepts: 500, want: 0 },
    {
      name: "K 2 tolerates 50% failures",
      requests: 200,
      accepts: 100,
      options: { k: 2 },
      want: 0,
    },
    {
      name: "K 1 rejects as soon as anything fails",
      requests: 200,
      accepts: 199,
      options: { k: 1 },
      want: 1 / 201,
    },
    {
      name: "minRequests 0",
      requests: 1,
      accepts: 0,
      options: { minRequests: 0 },
      want: 1 / 2,
    },
  ];
  for (const c of probabilities) {
    it(`reject probability: ${c.name}`, () => {
      const breaker = createSreBreaker(sreOptions(manualClock(), c.options));
      record(breaker, c.requests, c.accepts);
      assert.ok(Math.abs(breaker.rejectProbability() - c.want) < 1e-12);
      // With random() = 0, allow() rejects exactly when the probability is positive.
      assert.equal(breaker.allow(), c.want === 0);
    });
  }

  it("rejects when random() falls below the probability, allows otherwise", () => {
    const cases = [
      { random: 0, allowed: false },
      { random: 0.5, allowed: false },
      { random: 0.99, allowed: false },
      { random: 100 / 101, allowed: true },
      { random: 0.999, allowed: true },
    ];
    for (const c of cases) {
      const breaker = createSreBreaker({ now: () => 0, random: () => c.random });
      record(breaker, 100); // p = 100 / 101 ≈ 0.990
      assert.equal(breaker.allow(), c.allowed, `random ${c.random}`);
    }
  });

  it("rejects a share of calls equal to (requests - K * accepts) / (requests + 1)", () => {
    // Equidistributed "random" numbers: the share of rejections is p, up to 1 / n.
    const n = 10_000;
    let i = 0;
    const breaker = createSreBreaker({ now: () => 0, random: () => (i++ % n) / n });
    record(breaker, 1000, 200);
    const p = (1000 - 1.5 * 200) / 1001;
    let rejected = 0;
    for (let j = 0; j < n; j++) if (!breaker.allow()) rejected++;
    assert.ok(Math.abs(rejected / n - p) <= 1 / n, `${rejected / n} vs ${p}`);
  });

  it("forgets bucket by bucket as the window rolls, then allows again", () => {
    const clock = manualClock();
    const breaker = createSreBreaker(sreOptions(clock, { window: 10_000, buckets: 10 }));
    record(breaker, 100); // bucket [0, 1000)
    clock.advance(5_500);
    record(breaker, 100); // bucket [5000, 6000)
    assert.ok(Math.abs(breaker.rejectProbability() - 200 / 201) < 1e-12);
    assert.equal(breaker.allow(), false);

    clock.advance(4_499); // t = 9999: the first bucket is still inside the window
    assert.ok(Math.abs(breaker.rejectProbability() - 200 / 201) < 1e-12);
    clock.advance(1); // t = 10000: the first bucket is gone, the second one stays
    assert.ok(Math.abs(breaker.rejectProbability() - 100 / 101) < 1e-12);
    clock.advance(5_000); // t = 15000: everything is older than the window
    assert.equal(breaker.rejectProbability(), 0);
    assert.equal(breaker.allow(), true);
  });

  it("clears everything after a long idle time, and counts anew", () => {
    const clock = manualClock(1_000_000);
    const breaker = createSreBreaker(sreOptions(clock));
    record(breaker, 150);
    clock.advance(3_600_000);
    assert.equal(breaker.allow(), true);
    record(breaker, 99);
    assert.equal(breaker.allow(), true, "99 requests are below minRequests");
    record(breaker, 1);
    assert.equal(breaker.allow(), false);
  });

  it("keeps counting into the newest bucket when the clock steps back", () => {
    const clock = manualClock(50_000);
    const breaker = createSreBreaker(sreOptions(clock));
    record(breaker, 60);
    clock.advance(-20_000);
    record(breaker, 60);
    assert.ok(Math.abs(breaker.rejectProbability() - 120 / 121) < 1e-12);
    clock.advance(30_000); // 10 s after the newest bucket
    assert.equal(breaker.rejectProbability(), 0);
  });

  const invalid: [string, SreBreakerOptions][] = [
    ["k below 1", { k: 0.5 }],
    ["k not a number", { k: Number.NaN }],
    ["window 0", { window: 0 }],
    ["infinite window", { window: Number.POSITIVE_INFINITY }],
    ["no buckets", { buckets: 0 }],
    ["fractional buckets", { buckets: 2.5 }],
    ["negative minRequests", { minRequests: -1 }],
  ];
  for (const [name, options] of invalid) {
    it(`rejects bad options: ${name}`, () => {
      assert.throws(() => createSreBreaker(options), RangeError);
      assert.throws(() => circuitBreaker.client(options), RangeError);
    });
  }

  it("treats explicit undefined options as the defaults", () => {
    const breaker = createSreBreaker({ k: undefined, minRequests: undefined, now: () => 0 });
    record(breaker, 99);
    assert.equal(breaker.rejectProbability(), 0);
  });
});

/** A breaker whose `allow` answer the test sets, recording what it is told. */
function scriptedBreaker(allow = true): Breaker & { marks: string[]; allowed: boolean } {
  const breaker = {
    marks: [] as string[],
    allowed: allow,
    allow: () => breaker.allowed,
    markSuccess: () => {
      breaker.marks.push("success");
    },
    markFailure: () => {
      breaker.marks.push("failure");
    },
  };
  return breaker;
}

function clientCtx(operation = "/helloworld.v1.Greeter/SayHello"): CancellableContext {
  const ctx = createContext();
  setClientTransport(ctx, {
    kind: "grpc",
    endpoint: "grpc://127.0.0.1:1",
    operation,
    requestHeader: new NodeHeader({}),
    replyHeader: new NodeHeader({}),
  });
  return ctx;
}

describe("circuitBreaker.client", () => {
  it("rejects with 503 CIRCUITBREAKER without calling the next handler", async () => {
    const breaker = scriptedBreaker(false);
    let calls = 0;
    const handler = circuitBreaker.client({ breakerFor: () => breaker })(() => {
      calls++;
      return Promise.resolve("reply");
    });
    await assert.rejects(handler(clientCtx(), {}), (err: unknown) => {
      assert.ok(err instanceof KratosError);
      assert.equal(err.code, 503);
      assert.equal(err.reason, "CIRCUITBREAKER");
      assert.equal(err.message, "request failed due to circuit breaker triggered");
      return true;
    });
    assert.equal(calls, 0);
    // A local rejection is a request that was not accepted: it keeps the probability up.
    assert.deepEqual(breaker.marks, ["failure"]);
  });

  it("counts its rejections with the operation and its name", async () => {
    const meters = testMeters();
    const handler = circuitBreaker.client({
      breakerFor: () => scriptedBreaker(false),
      name: "backend",
      meterProvider: meters.meterProvider,
    })(() => Promise.resolve("reply"));
    for (let i = 0; i < 3; i++) await assert.rejects(handler(clientCtx(), {}), KratosError);
    assert.equal(
      await meters.value("client_breaker_rejected_total", {
        operation: "/helloworld.v1.Greeter/SayHello",
        rule: "backend",
      }),
      3,
    );
  });

  const aborted = (reason?: unknown): CancellableContext => {
    const ctx = clientCtx();
    ctx.abort(reason);
    return ctx;
  };
  const abortError = () => new DOMException("the operation was aborted", "AbortError");
  const outcomes: {
    name: string;
    error?: Error;
    ctx?: () => CancellableContext;
    want: string[];
  }[] = [
    { name: "a reply", want: ["success"] },
    { name: "500", error: new KratosError(500, "DB", "down"), want: ["failure"] },
    { name: "503", error: new KratosError(503, "", "unavailable"), want: ["failure"] },
    { name: "504", error: new KratosError(504, "", "too slow"), want: ["failure"] },
    { name: "404: the server answered", error: notFound("USER", "no user"), want: ["success"] },
    { name: "400", error: new KratosError(400, "BAD", "bad"), want: ["success"] },
    { name: "429", error: new KratosError(429, "RATELIMIT", "slow down"), want: ["success"] },
    {
      name: "a refused connection (a raw socket error, 500 before the client converts it)",
      error: Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), {
        code: "ECONNREFUSED",
      }),
      want: ["failure"],
    },
    { name: "499 from the server", error: new KratosError(499, "", "gone"), want: [] },
    { name: "the caller cancelled", error: abortError(), ctx: () => aborted(), want: [] },
    {
      name: "the deadline passed (the transport reports an AbortError)",
      error: abortError(),
      ctx: () => aborted(deadlineExceeded()),
      want: ["failure"],
    },
    {
      name: "a 503 that arrived although the context is aborted",
      error: new KratosError(503, "", "unavailable"),
      ctx: () => aborted(),
      want: ["failure"],
    },
  ];
  for (const c of outcomes) {
    it(`marks ${c.want.join("") || "nothing"} for ${c.name}`, async () => {
      const breaker = scriptedBreaker();
      const next: Handler = () =>
        c.error === undefined ? Promise.resolve("reply") : Promise.reject(c.error);
      const handler = circuitBreaker.client({ breakerFor: () => breaker })(next);
      const call = handler((c.ctx ?? clientCtx)(), {});
      if (c.error === undefined) assert.equal(await call, "reply");
      else await assert.rejects(call, (err) => err === c.error);
      assert.deepEqual(breaker.marks, c.want);
    });
  }

  it("keeps one breaker per operation, created on its first call", async () => {
    const created: string[] = [];
    const clock = manualClock();
    const m = circuitBreaker.client({
      breakerFor: (operation) => {
        created.push(operation);
        return createSreBreaker({ now: clock.now, random: () => 0, minRequests: 2 });
      },
    });
    const failing = m(() => Promise.reject(new KratosError(503, "", "down")));
    const fine = m(() => Promise.resolve("ok"));
    const a = "/pkg.Svc/A";
    const b = "/pkg.Svc/B";
    assert.deepEqual(created, []);
    for (let i = 0; i < 2; i++) await assert.rejects(failing(clientCtx(a), {}), { code: 503 });
    await assert.rejects(fine(clientCtx(a), {}), { reason: "CIRCUITBREAKER" });
    assert.equal(await fine(clientCtx(b), {}), "ok");
    assert.deepEqual(created, [a, b]);
  });

  it("uses the SRE breaker with the given options by default", async () => {
    const clock = manualClock();
    let calls = 0;
    const handler = circuitBreaker.client({
      minRequests: 3,
      window: 1_000,
      now: clock.now,
      random: () => 0,
    })(() => {
      calls++;
      return Promise.reject(new KratosError(500, "", "boom"));
    });
    for (let i = 0; i < 3; i++) await assert.rejects(handler(clientCtx(), {}), { code: 500 });
    await assert.rejects(handler(clientCtx(), {}), { code: 503, reason: "CIRCUITBREAKER" });
    assert.equal(calls, 3);
    clock.advance(1_000);
    await assert.rejects(handler(clientCtx(), {}), { code: 500 });
    assert.equal(calls, 4);
  });

  it("works without a client transport (one breaker for the empty operation)", async () => {
    const operations: string[] = [];
    const handler = circuitBreaker.client({
      breakerFor: (operation) => {
        operations.push(operation);
        return scriptedBreaker();
      },
    })(() => Promise.resolve(1));
    assert.equal(await handler(createContext(), {}), 1);
    assert.deepEqual(operations, [""]);
  });
});
