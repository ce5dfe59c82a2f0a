// The local limiters on an injected clock: exact admission counts, refill, periods, keys kept
// apart, and memory bounded when keys come from request values.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createFixedPeriodLimiter, createTokenBucketLimiter } from "kratos-ts/ratelimit";
import type { LocalRateLimiter } from "kratos-ts/ratelimit";

function clock(start = 0) {
  const c = { t: start, now: () => c.t };
  return c;
}

/** How many of `count` takes of `n` the limiter admits for `key`, all at the same instant. */
function admit(limiter: LocalRateLimiter, count: number, key = "k", n = 1): number {
  let admitted = 0;
  for (let i = 0; i < count; i++) if (limiter.take(key, n)) admitted++;
  return admitted;
}

describe("createTokenBucketLimiter", () => {
  it("admits the burst at once, then the rate", () => {
    const c = clock();
    const limiter = createTokenBucketLimiter({ rate: 10, burst: 5, now: c.now });
    assert.equal(admit(limiter, 20), 5);
    c.t += 100; // one token at 10/s
    assert.equal(admit(limiter, 20), 1);
    c.t += 1000; // ten tokens, capped at the burst
    assert.equal(admit(limiter, 20), 5);
  });

  it("admits exactly rate x seconds under a steady flood", () => {
    const c = clock();
    const limiter = createTokenBucketLimiter({ rate: 50, burst: 1, now: c.now });
    let admitted = 0;
    // 200 calls per second for 10 s, one every 5 ms.
    for (let i = 0; i < 2000; i++) {
      if (limiter.take("k")) admitted++;
      c.t += 5;
    }
    assert.equal(admitted, 500);
  });

  const table = [
    { name: "burst defaults to the rate", options: { rate: 7 }, want: 7 },
    { name: "burst is at least 1 for slow rates", options: { rate: 0.5 }, want: 1 },
    { name: "explicit burst", options: { rate: 1, burst: 3 }, want: 3 },
  ];
  for (const { name, options, want } of table) {
    it(name, () => {
      assert.equal(admit(createTokenBucketLimiter({ ...options, now: clock().now }), 100), want);
    });
  }

  it("takes n tokens at once, and a refused call takes none", () => {
    const c = clock();
    const limiter = createTokenBucketLimiter({ rate: 1, burst: 10, now: c.now });
    assert.equal(limiter.take("k", 4), true);
    assert.equal(limiter.take("k", 7), false);
    assert.equal(admit(limiter, 10, "k", 2), 3);
    assert.equal(limiter.take("new", 11), false);
  });

  it("keeps keys apart", () => {
    const limiter = createTokenBucketLimiter({ rate: 1, burst: 2, now: clock().now });
    assert.deepEqual([admit(limiter, 5, "a"), admit(limiter, 5, "b")], [2, 2]);
  });

  it("does not drain when the clock steps back", () => {
    const c = clock(10_000);
    const limiter = createTokenBucketLimiter({ rate: 1, burst: 2, now: c.now });
    assert.equal(admit(limiter, 1), 1);
    c.t = 0;
    assert.equal(admit(limiter, 5), 1);
  });

  it("describes itself", () => {
    assert.equal(
      createTokenBucketLimiter({ rate: 50, burst: 100 }).description,
      "50 per second (burst 100)",
    );
  });

  it("rejects a rate or burst that is not above zero", () => {
    assert.throws(() => createTokenBucketLimiter({ rate: 0 }), /rate must be a finite number/);
    assert.throws(() => createTokenBucketLimiter({ rate: 1, burst: -1 }), /burst/);
    assert.throws(() => createTokenBucketLimiter({ rate: Number.NaN }), /rate/);
  });

  it("forgets the oldest key past maxKeys, and refilled keys as time passes", () => {
    const c = clock();
    const limiter = createTokenBucketLimiter({ rate: 1, burst: 1, maxKeys: 2, now: c.now });
    assert.equal(admit(limiter, 1, "a") + admit(limiter, 1, "b") + admit(limiter, 1, "c"), 3);
    // "a" was forgotten when "c" came: it starts afresh; "c" is still empty.
    assert.deepEqual([limiter.take("a"), limiter.take("c")], [true, false]);
  });
});

describe("createFixedPeriodLimiter", () => {
  it("admits the limit per period, starting with the key's first call", () => {
    const c = clock(500);
    const limiter = createFixedPeriodLimiter({ limit: 3, period: 1000, now: c.now });
    assert.equal(admit(limiter, 10), 3);
    c.t = 1499;
    assert.equal(admit(limiter, 10), 0);
    c.t = 1500;
    assert.equal(admit(limiter, 10), 3);
  });

  it("counts a refused call as nothing", () => {
    const limiter = createFixedPeriodLimiter({ limit: 5, now: clock().now });
    assert.equal(limiter.take("k", 3), true);
    assert.equal(limiter.take("k", 3), false);
    assert.equal(limiter.take("k", 2), true);
    assert.equal(limiter.take("k", 1), false);
  });

  it("keeps keys apart and describes itself", () => {
    const limiter = createFixedPeriodLimiter({ limit: 20, period: 10_000, now: clock().now });
    assert.deepEqual([admit(limiter, 30, "a"), admit(limiter, 30, "b")], [20, 20]);
    assert.equal(limiter.description, "20 per 10s");
    assert.equal(
      createFixedPeriodLimiter({ limit: 100, period: 60_000 }).description,
      "100 per minute",
    );
  });

  it("rejects a limit or period that is not above zero", () => {
    assert.throws(() => createFixedPeriodLimiter({ limit: 0 }), /limit/);
    assert.throws(() => createFixedPeriodLimiter({ limit: 1, period: 0 }), /period/);
  });
});
