import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Etcd3 } from "etcd3";
import { KratosError } from "../../src/errors/error.js";
import { createEtcdSync } from "../../src/sync/index.js";
import type { EtcdSync, EtcdSyncOptions, LeaderObserver } from "../../src/sync/index.js";
import { etcdSkip, eventually, startEtcd } from "../helpers/etcd.js";
import type { EtcdServer } from "../helpers/etcd.js";

const skip = etcdSkip();

function reasonOf(err: unknown): string {
  return err instanceof KratosError ? `${err.code} ${err.reason}` : String(err);
}

function abortedAfter(signal: AbortSignal, from: number): Promise<number> {
  if (signal.aborted) return Promise.resolve(Date.now() - from);
  return new Promise((resolve) => {
    signal.addEventListener(
      "abort",
      () => {
        resolve(Date.now() - from);
      },
      { once: true },
    );
  });
}

/** The values an observer yields, collected in the background until it closes. */
function collect(observer: LeaderObserver): (string | undefined)[] {
  const seen: (string | undefined)[] = [];
  void (async () => {
    for await (const leader of observer) seen.push(leader);
  })();
  return seen;
}

describe("sync: etcd elections", { skip }, () => {
  let etcd: EtcdServer;
  let raw: Etcd3;
  const clients: EtcdSync[] = [];
  const open = (options: EtcdSyncOptions = {}) => {
    const sync = createEtcdSync({ endpoints: [etcd.endpoint], maxRetryDelay: 300, ...options });
    clients.push(sync);
    return sync;
  };
  before(async () => {
    etcd = await startEtcd();
    raw = new Etcd3({ hosts: etcd.endpoint });
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    raw.close();
    await etcd.stop();
  });

  it("elects one candidate, hands over on resign, and observers follow", async () => {
    const [a, b, c] = [open(), open(), open()];
    const observer = c.election("job").observe();
    const changes: (string | undefined)[] = [];
    const withCallback = c.election("job").observe({
      onChange: (leader) => {
        changes.push(leader);
      },
    });
    const seen = collect(observer);
    await eventually("no leader yet", () => seen.length === 1 && seen[0] === undefined);
    const first = await a.election("job", { ttl: 2 }).campaign("a");
    let standbyElected = false;
    const standby = b
      .election("job", { ttl: 2 })
      .campaign("b")
      .then((lead) => {
        standbyElected = true;
        return lead;
      });
    await eventually("the observers see a", () => observer.leader === "a");
    assert.equal(await c.election("job").leader(), "a");
    // b is a candidate (its key exists) but not the leader.
    await eventually("b campaigns", async () => {
      const keys = await raw.getAll().prefix("/kratos/sync/election/job/").keys();
      return keys.length === 2;
    });
    assert.equal(first.signal.aborted, false);
    assert.equal(standbyElected, false, "one leader at a time");
    await first.resign();
    const next = await standby;
    assert.equal(next.value, "b");
    assert.ok(next.fencingToken > first.fencingToken, "the next leader's token is larger");
    assert.equal((first.signal.reason as Error).name, "AbortError");
    await eventually("the observers see b", () => observer.leader === "b");
    await next.resign();
    await eventually("no leader again", () => observer.leader === undefined);
    assert.deepEqual(seen, [undefined, "a", "b", undefined]);
    await eventually("the callback saw the same", () => changes.length === 4);
    assert.deepEqual(changes, [undefined, "a", "b", undefined]);
    await observer.close();
    await withCallback.close();
  });

  it("ends a campaign by its timeout or signal, withdrawing the candidate", async () => {
    const [a, b] = [open(), open()];
    const lead = await a.election("busy", { ttl: 2 }).campaign("a");
    const started = Date.now();
    const timedOut = await b
      .election("busy", { ttl: 2 })
      .campaign("b", { timeout: 300 })
      .then(
        () => "elected",
        (err: unknown) => reasonOf(err),
      );
    assert.equal(timedOut, "504 ELECTION_TIMEOUT");
    assert.ok(Date.now() - started < 2_000);
    const controller = new AbortController();
    const byCaller = new Error("shutting down");
    const waiting = b.election("busy").campaign("b", { signal: controller.signal });
    setTimeout(() => {
      controller.abort(byCaller);
    }, 100);
    await assert.rejects(waiting, (err) => err === byCaller);
    // Withdrawn candidates leave no key: when a resigns, nobody is elected.
    await eventually("only a's key is left", async () => {
      const keys = await raw.getAll().prefix("/kratos/sync/election/busy/").keys();
      return keys.length === 1;
    });
    await lead.resign();
    assert.equal(await b.election("busy").leader(), undefined);
  });

  it("aborts the leader's signal when its lease is revoked, and a standby takes over", async () => {
    const [a, b] = [open(), open()];
    const lead = await a.election("revoked", { ttl: 3 }).campaign("a");
    const standby = b.election("revoked", { ttl: 3 }).campaign("b");
    const kvs = (await raw.getAll().prefix("/kratos/sync/election/revoked/").exec()).kvs;
    const mine = kvs.find((kv) => kv.value.toString() === "a");
    assert.ok(mine !== undefined);
    const revoked = Date.now();
    await raw.leaseClient.leaseRevoke({ ID: mine.lease });
    const took = await abortedAfter(lead.signal, revoked);
    assert.equal(reasonOf(lead.signal.reason), "503 SESSION_LOST");
    assert.ok(took < 3_000 / 3 + 1_000, `aborted ${took} ms after the revoke`);
    const next = await standby;
    assert.equal(next.value, "b");
    await next.resign();
  });

  it("close() aborts the leadership and ends campaigns with 503 SESSION_LOST", async () => {
    const sync = open();
    const lead = await sync.election("closing").campaign("a");
    const waiting = sync
      .election("closing")
      .campaign("b")
      .then(
        () => "elected",
        (err: unknown) => reasonOf(err),
      );
    const observer = sync.election("closing").observe();
    const seen = collect(observer);
    await eventually("observed", () => seen.length > 0);
    await sync.close();
    assert.equal(reasonOf(lead.signal.reason), "503 SESSION_LOST");
    assert.equal(await waiting, "503 SESSION_LOST");
    await observer.close();
    assert.equal((await raw.getAll().prefix("/kratos/sync/election/closing/").keys()).length, 0);
  });
});

describe("sync: etcd down while leading", { skip }, () => {
  let etcd: EtcdServer;
  let a: EtcdSync;
  let b: EtcdSync;
  before(async () => {
    etcd = await startEtcd();
    const options = { endpoints: [etcd.endpoint], maxRetryDelay: 300, callTimeout: 1_000 };
    a = createEtcdSync(options);
    b = createEtcdSync(options);
  });
  after(async () => {
    await Promise.all([a.close(), b.close()]);
    await etcd.stop();
  });

  it("aborts the leader's signal within the TTL; after etcd is back a leader is elected", async () => {
    const ttl = 2;
    const lead = await a.election("outage", { ttl }).campaign("a");
    const standby = b.election("outage", { ttl }).campaign("b");
    await new Promise((resolve) => setTimeout(resolve, 800));
    const killed = Date.now();
    await etcd.kill();
    const took = await abortedAfter(lead.signal, killed);
    assert.equal(reasonOf(lead.signal.reason), "503 SESSION_LOST");
    assert.ok(took <= ttl * 1000, `aborted ${took} ms after etcd went down (TTL ${ttl} s)`);
    console.log(`# leader signal aborted ${took} ms after etcd was killed (TTL ${ttl * 1000} ms)`);
    await etcd.restart();
    // The standby kept campaigning through the outage (it retries; nothing to do for the caller).
    const next = await standby;
    assert.equal(next.value, "b");
    assert.ok(next.fencingToken > lead.fencingToken);
    await next.resign();
  });
});
