import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { EtcdSync } from "../../src/sync/index.js";
import { etcdSkip, eventually, freePort } from "../helpers/etcd.js";
import { outcome } from "../helpers/outcome.js";
import { abortedAfter, etcdLeaseRenewals, etcdWatchers, reasonOf, syncSuite } from "./harness.js";

const skip = etcdSkip();

describe("sync: etcd locks", { skip }, () => {
  const suite = syncSuite();
  const open = suite.open.bind(suite);

  it("lets one holder in at a time under contention, with growing fencing tokens", async () => {
    // Four clients (as four processes would), three rounds of two holders each.
    const syncs = [open(), open(), open(), open()];
    let inside = 0;
    let most = 0;
    const tokens: bigint[] = [];
    const holder = async (sync: EtcdSync) => {
      for (let round = 0; round < 3; round++) {
        await sync.lock("contended", { ttl: 5 }).run(async (held) => {
          inside++;
          most = Math.max(most, inside);
          tokens.push(held.fencingToken);
          // Real work under the lock: a round trip to etcd, so others get to try meanwhile.
          await suite.raw.put("/work/contended").value(String(tokens.length));
          assert.equal(held.signal.aborted, false);
          inside--;
        });
      }
    };
    await Promise.all(syncs.flatMap((sync) => [holder(sync), holder(sync)]));
    assert.equal(most, 1, "never two holders at once");
    assert.equal(tokens.length, 24);
    for (let i = 1; i < tokens.length; i++) {
      assert.ok((tokens[i] ?? 0n) > (tokens[i - 1] ?? 0n), `token ${i} grows: ${tokens.join()}`);
    }
    // Every lease was revoked: nothing is left under the lock.
    assert.equal((await suite.keys("lock/")).length, 0);
  });

  it("hands over on release, and the released holder's signal aborts plainly", async () => {
    const a = open();
    const b = open();
    const first = await a.lock("handover").acquire();
    const watchers = await etcdWatchers(suite.etcd.endpoint);
    const waiting = b.lock("handover").acquire({ timeout: 10_000 });
    // B has tried once and watches the key (etcd counts its watcher) before A lets go.
    await eventually(
      "B watches the lock",
      async () => (await etcdWatchers(suite.etcd.endpoint)) > watchers,
    );
    const released = Date.now();
    await first.release();
    const second = await waiting;
    const handover = Date.now() - released;
    assert.ok(handover < 1_000, `handed over in ${handover} ms (a delete wakes the waiter)`);
    assert.ok(second.fencingToken > first.fencingToken);
    assert.equal(first.signal.aborted, true);
    assert.equal((first.signal.reason as Error).name, "AbortError");
    assert.equal(second.signal.aborted, false);
    await first.release(); // idempotent
    await second.release();
  });

  it("ends a wait by its signal or its timeout, leaving no lease behind", async () => {
    const a = open();
    const b = open();
    const leaseCount = async () => (await suite.raw.leaseClient.leaseLeases({})).leases.length;
    const before = await leaseCount();
    const held = await a.lock("busy").acquire();
    const controller = new AbortController();
    const byCaller = new Error("caller gave up");
    const watchers = await etcdWatchers(suite.etcd.endpoint);
    const waiting = b.lock("busy").acquire({ signal: controller.signal });
    // Abort once B waits (its watch is open), not before it has tried.
    await eventually(
      "B waits on the lock",
      async () => (await etcdWatchers(suite.etcd.endpoint)) > watchers,
    );
    controller.abort(byCaller);
    await assert.rejects(waiting, (err) => err === byCaller);

    const started = Date.now();
    assert.equal(await outcome(b.lock("busy").acquire({ timeout: 300 })), "504 LOCK_TIMEOUT");
    assert.ok(Date.now() - started < 2_000);
    const alreadyAborted = b.lock("busy").acquire({ signal: AbortSignal.abort(byCaller) });
    await assert.rejects(alreadyAborted, (err) => err === byCaller);

    // Only A's lease is alive, and A still holds the lock. B's attempts give their leases back
    // in the background, some only once a grant still in flight lands; B's close() waits for
    // every such give-back (a count polled before a late grant lands would pass too early).
    await b.close();
    assert.equal(await leaseCount(), before + 1, "only A's lease is left");
    assert.equal(held.signal.aborted, false);
    assert.equal((await suite.keys("lock/busy")).length, 1, "A's key is still there");
    await held.release();
    assert.equal(await leaseCount(), before, "the held lease is gone after release");
    assert.equal((await suite.keys("lock/busy")).length, 0);
  });

  it("aborts the holder's signal at once when its lease is revoked", async () => {
    const held = await open().lock("revoked", { ttl: 3 }).acquire();
    const kv = (await suite.raw.get("/kratos/sync/lock/revoked").exec()).kvs[0];
    assert.ok(kv !== undefined);
    const revoked = Date.now();
    await suite.raw.leaseClient.leaseRevoke({ ID: kv.lease });
    const took = await abortedAfter(held.signal, revoked);
    assert.equal(reasonOf(held.signal.reason), "503 SESSION_LOST");
    // etcd3 sends a keep-alive every TTL/3; the answer "gone" aborts at once.
    assert.ok(took < 3_000 / 3 + 1_000, `aborted ${took} ms after the revoke`);
  });

  it("fails with 503 ETCD_UNAVAILABLE when etcd does not answer", async () => {
    const port = await freePort();
    const sync = open({ endpoints: [`http://127.0.0.1:${port}`], callTimeout: 200 });
    const started = Date.now();
    const result = await outcome(sync.lock("nowhere").acquire({ timeout: 800 }));
    assert.equal(result, "503 ETCD_UNAVAILABLE");
    assert.ok(Date.now() - started < 3_000, "within its timeout, plus a call");
  });

  it("close() rejects waits and aborts holders with 503 SESSION_LOST", async () => {
    const sync = open();
    const other = open();
    const held = await sync.lock("closing").acquire();
    const waiting = other.lock("closing-2").acquire();
    const otherHeld = await waiting;
    const watchers = await etcdWatchers(suite.etcd.endpoint);
    const blocked = outcome(sync.lock("closing-2").acquire({ timeout: 10_000 }));
    await eventually(
      "the second acquire waits",
      async () => (await etcdWatchers(suite.etcd.endpoint)) > watchers,
    );
    await sync.close();
    assert.equal(reasonOf(held.signal.reason), "503 SESSION_LOST");
    assert.equal(await blocked, "503 SESSION_LOST");
    assert.equal((await suite.keys("lock/closing")).length, 1);
    await otherHeld.release();
  });
});

describe("sync: etcd down while a lock is held", { skip }, () => {
  const suite = syncSuite();

  it("aborts the holder's signal within the TTL, and the lock works again after", async () => {
    const ttl = 2;
    const lock = suite.open().lock("outage", { ttl });
    const renewals = await etcdLeaseRenewals(suite.etcd.endpoint);
    const held = await lock.acquire();
    // Once etcd has renewed the lease, the bound is measured from a running lease.
    await eventually(
      "etcd renews the holder's lease",
      async () => (await etcdLeaseRenewals(suite.etcd.endpoint)) > renewals,
    );
    const killed = Date.now();
    await suite.etcd.kill();
    const took = await abortedAfter(held.signal, killed);
    assert.equal(reasonOf(held.signal.reason), "503 SESSION_LOST");
    assert.ok(took <= ttl * 1000, `aborted ${took} ms after etcd went down (TTL ${ttl} s)`);
    console.log(`# holder signal aborted ${took} ms after etcd was killed (TTL ${ttl * 1000} ms)`);
    await suite.etcd.restart();
    // The old lease may come back with etcd for one TTL; a new holder gets in after it.
    const next = await lock.acquire({ timeout: 4 * ttl * 1000 });
    assert.ok(next.fencingToken > held.fencingToken);
    await held.release();
    await next.release();
  });
});
