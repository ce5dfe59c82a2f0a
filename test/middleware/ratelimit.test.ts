import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, it } from "node:test";
import { setImmediate as turn, setTimeout as delay } from "node:timers/promises";
import { createContext } from "../../src/context.js";
import { KratosError } from "../../src/errors/error.js";
import {
  createBbrLimiter,
  createUtilizationSampler,
  ratelimit,
} from "../../src/middleware/ratelimit.js";
import type { Admission, BbrLimiter, Limiter } from "../../src/middleware/ratelimit.js";

/** A limiter on a hand-driven clock and overload signal. */
function driven(options: { coolOff?: number } = {}): {
  limiter: BbrLimiter;
  clock: { now: number };
  load: { utilization: number };
} {
  const clock = { now: 0 };
  const load = { utilization: 0 };
  const limiter = createBbrLimiter({
    ...options,
    now: () => clock.now,
    utilization: () => load.utilization,
  });
  return { limiter, clock, load };
}

/**
 * Completes `count` calls of `rt` ms each in the first 100 ms bucket, then moves to the next
 * bucket, so the window holds maxPass = count and minRT = rt.
 */
async function history(d: ReturnType<typeof driven>, count: number, rt: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    d.clock.now = 0;
    const a = d.limiter.allow();
    assert.ok(a !== undefined);
    d.clock.now = rt;
    a.done();
  }
  await turn();
  d.clock.now = 150;
}

/** Admits calls that stay in flight until `n` are open; fails if one is shed. */
function open(limiter: Limiter, n: number): Admission[] {
  return Array.from({ length: n }, (_, i) => {
    const a = limiter.allow();
    assert.ok(a !== undefined, `call ${i + 1} of ${n} admitted`);
    return a;
  });
}

describe("BBR limiter", () => {
  it("never drops while the process is not overloaded, however many calls are in flight", async () => {
    const d = driven();
    await history(d, 20, 25);
    d.load.utilization = 0.79;
    open(d.limiter, 500);
    assert.equal(d.limiter.stats().inFlight, 500);
  });

  it("drops when overloaded and in flight is above maxPass x minRT", async () => {
    const d = driven();
    // 20 calls per 100 ms bucket (200/s) of 25 ms each: 5 in flight is what the service sustains.
    await history(d, 20, 25);
    d.load.utilization = 0.9;
    assert.deepEqual(d.limiter.stats(), {
      utilization: 0.9,
      inFlight: 0,
      maxInFlight: 5,
      minRt: 25,
      maxPass: 20,
    });
    // Admitted while in flight <= 5 at the time of the call: the sixth still gets in.
    open(d.limiter, 6);
    assert.equal(d.limiter.allow(), undefined);
    assert.equal(d.limiter.allow(), undefined);
    assert.equal(d.limiter.stats().inFlight, 6, "shed calls are not counted");
  });

  it("admits again once in-flight calls finish", async () => {
    const d = driven();
    await history(d, 20, 25);
    d.load.utilization = 1;
    const calls = open(d.limiter, 6);
    assert.equal(d.limiter.allow(), undefined);
    for (const a of calls.slice(0, 2)) a.done();
    await turn();
    assert.ok(d.limiter.allow() !== undefined);
  });

  it("counts calls finished in this event-loop turn as in flight until the loop turns", async () => {
    const d = driven();
    // 10 calls of 10 ms per bucket: a limit of one, so the Kratos floor of two applies.
    await history(d, 10, 10);
    d.load.utilization = 1;
    assert.equal(d.limiter.stats().maxInFlight, 1);
    // Synchronous handlers: each call ends before the next starts, yet all were queued together.
    for (let i = 0; i < 2; i++) d.limiter.allow()?.done();
    assert.equal(d.limiter.allow(), undefined);
    await turn();
    assert.equal(d.limiter.stats().inFlight, 0);
    assert.ok(d.limiter.allow() !== undefined);
  });

  it("keeps dropping above the limit for the cool-off after overload ends, then admits", async () => {
    const d = driven({ coolOff: 1000 });
    await history(d, 20, 25);
    d.load.utilization = 0.9;
    open(d.limiter, 6);
    assert.equal(d.limiter.allow(), undefined, "overloaded: dropped at t=150");
    d.load.utilization = 0.2;
    d.clock.now = 1150;
    assert.equal(d.limiter.allow(), undefined, "still within the cool-off of the last drop");
    d.clock.now = 1151;
    assert.ok(d.limiter.allow() !== undefined, "cool-off over");
    assert.ok(d.limiter.allow() !== undefined, "and it stays over");
  });

  it("admits within the cool-off when in flight is back under the limit", async () => {
    const d = driven();
    await history(d, 20, 25);
    d.load.utilization = 0.9;
    const calls = open(d.limiter, 6);
    assert.equal(d.limiter.allow(), undefined);
    d.load.utilization = 0;
    // They take 25 ms, like the history, and the clock stays in the bucket still filling.
    d.clock.now = 175;
    for (const a of calls) a.done();
    await turn();
    d.clock.now = 190;
    open(d.limiter, 6);
    assert.equal(d.limiter.allow(), undefined);
  });

  it("never drops before any call has completed, nor once the window has forgotten them", async () => {
    const d = driven();
    d.load.utilization = 1;
    open(d.limiter, 50);
    assert.equal(d.limiter.stats().maxInFlight, Infinity);

    const e = driven();
    await history(e, 20, 25);
    e.load.utilization = 1;
    e.clock.now = 9_999;
    assert.equal(e.limiter.stats().maxInFlight, 5, "the first bucket is the oldest in the window");
    e.clock.now = 10_000;
    assert.equal(e.limiter.stats().minRt, Infinity);
    open(e.limiter, 50);
  });

  it("ignores a second done()", async () => {
    const d = driven();
    const a = d.limiter.allow();
    assert.ok(a !== undefined);
    d.limiter.allow();
    a.done();
    a.done();
    await turn();
    assert.equal(d.limiter.stats().inFlight, 1);
  });

  it("rejects a window or bucket count that is not positive", () => {
    assert.throws(() => createBbrLimiter({ window: 0 }), RangeError);
    assert.throws(() => createBbrLimiter({ buckets: 0 }), RangeError);
    assert.throws(() => createBbrLimiter({ buckets: 2.5 }), RangeError);
  });
});

describe("utilization sampler", () => {
  it("rises when the event loop is busy", { timeout: 10_000 }, async () => {
    const sampler = createUtilizationSampler({ interval: 10, decay: 0 });
    try {
      assert.equal(sampler.value(), 0);
      const until = performance.now() + 100;
      while (performance.now() < until) {
        // Keep the loop busy across the next sample.
      }
      // The first sample, whenever its timer gets to run, covers the busy stretch.
      while (sampler.value() === 0) await delay(1);
      assert.ok(sampler.value() > 0.5, `utilization ${sampler.value()}`);
    } finally {
      sampler.close();
    }
  });

  it("never keeps a process alive", () => {
    // A fresh process lists what keeps its event loop alive once the limiter's end-of-turn
    // settling has run, and exits. (Waiting for it to exit by itself needs a kill timeout as the
    // verdict, which a loaded machine could reach while starting node.)
    const module = new URL("../../src/middleware/ratelimit.js", import.meta.url).href;
    const script = `
      const before = process.getActiveResourcesInfo();
      const { createBbrLimiter, createUtilizationSampler } = await import(${JSON.stringify(module)});
      createUtilizationSampler({ interval: 5, cpu: true });
      createBbrLimiter().allow()?.done();
      setImmediate(() => {
        const after = process.getActiveResourcesInfo();
        process.stdout.write(JSON.stringify({ before, after }));
        process.exit(0);
      });
    `;
    const child = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
      encoding: "utf8",
    });
    assert.equal(child.stderr, "");
    assert.equal(child.status, 0);
    const { before, after } = JSON.parse(child.stdout) as { before: string[]; after: string[] };
    assert.deepEqual(after, before, "nothing more keeps the event loop alive");
  });
});

describe("ratelimit middleware", () => {
  const refuse: Limiter = { allow: () => undefined };

  it("fails a refused call with 429 RATELIMIT without calling next", async () => {
    let called = false;
    const handler = ratelimit.server({ limiter: refuse })(() => {
      called = true;
      return Promise.resolve("reply");
    });
    await assert.rejects(handler(createContext(), {}), (err) => {
      assert.ok(err instanceof KratosError);
      assert.equal(err.code, 429);
      assert.equal(err.reason, "RATELIMIT");
      assert.equal(err.message, "service unavailable due to rate limit exceeded");
      return true;
    });
    assert.equal(called, false);
  });

  it("runs an admitted call and reports its end, also when it fails", async () => {
    const ends: string[] = [];
    const track: Limiter = { allow: () => ({ done: () => ends.push("done") }) };
    const ok = ratelimit.server({ limiter: track })(() => {
      ends.push("handler");
      return Promise.resolve("reply");
    });
    assert.equal(await ok(createContext(), {}), "reply");
    const failing = ratelimit.server({ limiter: track })(() => Promise.reject(new Error("boom")));
    await assert.rejects(failing(createContext(), {}), /boom/);
    assert.deepEqual(ends, ["handler", "done", "done"]);
  });

  it("builds a BBR limiter from its options by default", async () => {
    const handler = ratelimit.server({ utilization: () => 1, now: () => 0 })((_ctx, req) =>
      Promise.resolve(req),
    );
    assert.equal(await handler(createContext(), "x"), "x");
  });
});
