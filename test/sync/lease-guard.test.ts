import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { describe, it } from "node:test";
import type { TestContext } from "node:test";
import { KratosError } from "../../src/errors/error.js";
import { LeaseGuard } from "../../src/sync/lease-guard.js";

// The bound arithmetic on etcd3's keep-alive events, with mocked time (etcd3's Lease is an
// EventEmitter of exactly these events; the real one is exercised by the etcd suites).
describe("sync: LeaseGuard", () => {
  const ttl = 2; // seconds; the margin is a tenth: 200 ms
  const start = (t: TestContext) => {
    t.mock.timers.enable({ apis: ["Date", "setTimeout"], now: 0 });
    const lease = new EventEmitter();
    let lost = 0;
    const guard = new LeaseGuard(lease, ttl, 0, "lock x", () => lost++);
    return { lease, guard, lost: () => lost };
  };

  it("aborts at grant + TTL - margin when no keep-alive is acknowledged", (t) => {
    const { guard, lost } = start(t);
    t.mock.timers.tick(1_799);
    assert.equal(guard.signal.aborted, false);
    t.mock.timers.tick(1);
    assert.equal(guard.signal.aborted, true);
    const reason: unknown = guard.signal.reason;
    assert.ok(reason instanceof KratosError);
    assert.equal(`${reason.code} ${reason.reason}`, "503 SESSION_LOST");
    assert.equal(lost(), 1);
  });

  it("moves the bound to the send time of each acknowledged keep-alive, not its answer", (t) => {
    const { lease, guard } = start(t);
    lease.emit("keepaliveEstablished");
    t.mock.timers.tick(600);
    lease.emit("keepaliveFired"); // sent at 600
    t.mock.timers.tick(900);
    lease.emit("keepaliveSucceeded"); // answered at 1 500: etcd's expiry is >= 600 + 2 000
    assert.equal(guard.validUntil, 600 + 2_000 - 200);
    t.mock.timers.tick(2_399 - 1_500);
    assert.equal(guard.signal.aborted, false);
    t.mock.timers.tick(1);
    assert.equal(guard.signal.aborted, true);
  });

  it("forgets keep-alives sent on a stream that broke", (t) => {
    const { lease, guard } = start(t);
    t.mock.timers.tick(500);
    lease.emit("keepaliveFired"); // sent at 500 on a stream that then broke: never answered
    t.mock.timers.tick(500);
    lease.emit("keepaliveEstablished");
    lease.emit("keepaliveFired"); // sent at 1 000 on the new stream
    lease.emit("keepaliveSucceeded");
    assert.equal(guard.validUntil, 1_000 + 2_000 - 200);
  });

  it("aborts at once on etcd3's `lost`, and plainly on end()", (t) => {
    const first = start(t);
    first.lease.emit("lost", new Error("lease revoked"));
    assert.equal(first.guard.signal.aborted, true);
    assert.equal(first.lost(), 1);
    const lease = new EventEmitter();
    const guard = new LeaseGuard(lease, ttl, Date.now(), "lock y", () => undefined);
    guard.end();
    assert.equal((guard.signal.reason as Error).name, "AbortError");
    // Ended: later events and the timer change nothing.
    lease.emit("lost", new Error("late"));
    t.mock.timers.tick(10_000);
    assert.equal((guard.signal.reason as Error).name, "AbortError");
    assert.equal(lease.listenerCount("lost"), 0);
  });
});
