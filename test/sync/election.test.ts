import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Logger } from "../../src/log/logger.js";
import type { LeaderObserver } from "../../src/sync/index.js";
import { etcdSkip, eventually, freePort } from "../helpers/etcd.js";
import { outcome } from "../helpers/outcome.js";
import { abortedAfter, reasonOf, syncSuite } from "./harness.js";

const skip = etcdSkip();

/** The values an observer yields, collected in the background until it closes. */
function collect(observer: LeaderObserver): (string | undefined)[] {
  const seen: (string | undefined)[] = [];
  void (async () => {
    for await (const leader of observer) seen.push(leader);
  })();
  return seen;
}

describe("sync: etcd elections", { skip }, () => {
  const suite = syncSuite();
  const open = suite.open.bind(suite);

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
      return (await suite.keys("election/job/")).length === 2;
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

  it("an onChange that throws is logged as the caller's error; the observer goes on", async () => {
    const errors: string[] = [];
    const warned: string[] = [];
    const logger: Logger = {
      debug: () => undefined,
      info: () => undefined,
      warn: (_fields: object | string, msg?: string) => {
        warned.push(msg ?? "");
      },
      error: (_fields: object | string, msg?: string) => {
        errors.push(msg ?? "");
      },
      child: () => logger,
    };
    const [a, c] = [open(), open({ logger })];
    const observer = c.election("throwing").observe({
      onChange: () => {
        throw new Error("a bug in the caller");
      },
    });
    const seen = collect(observer);
    await eventually("no leader yet", () => seen.length === 1);
    const lead = await a.election("throwing", { ttl: 2 }).campaign("a");
    await eventually("the observer sees a", () => observer.leader === "a");
    assert.deepEqual(seen, [undefined, "a"]);
    assert.ok(errors.includes("leader observer: onChange threw"), errors.join());
    assert.deepEqual(warned, [], "not reported as an etcd outage");
    await lead.resign();
    await observer.close();
  });

  it("ends a campaign by its timeout or signal, withdrawing the candidate", async () => {
    const [a, b] = [open(), open()];
    const lead = await a.election("busy", { ttl: 2 }).campaign("a");
    const started = Date.now();
    const timedOut = await outcome(b.election("busy", { ttl: 2 }).campaign("b", { timeout: 300 }));
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
      return (await suite.keys("election/busy/")).length === 1;
    });
    await lead.resign();
    assert.equal(await b.election("busy").leader(), undefined);
  });

  it("aborts the leader's signal when its lease is revoked, and a standby takes over", async () => {
    const [a, b] = [open(), open()];
    const lead = await a.election("revoked", { ttl: 3 }).campaign("a");
    const standby = b.election("revoked", { ttl: 3 }).campaign("b");
    const kvs = (await suite.raw.getAll().prefix("/kratos/sync/election/revoked/").exec()).kvs;
    const mine = kvs.find((kv) => kv.value.toString() === "a");
    assert.ok(mine !== undefined);
    const revoked = Date.now();
    await suite.raw.leaseClient.leaseRevoke({ ID: mine.lease });
    const took = await abortedAfter(lead.signal, revoked);
    assert.equal(reasonOf(lead.signal.reason), "503 SESSION_LOST");
    assert.ok(took < 3_000 / 3 + 1_000, `aborted ${took} ms after the revoke`);
    const next = await standby;
    assert.equal(next.value, "b");
    await next.resign();
  });

  it("reports an unreachable etcd as 503 ETCD_UNAVAILABLE, and observers keep waiting", async () => {
    const port = await freePort();
    const sync = open({ endpoints: [`http://127.0.0.1:${port}`], callTimeout: 200 });
    const election = sync.election("nowhere");
    const observer = election.observe();
    const started = Date.now();
    assert.equal(await outcome(election.campaign("a", { timeout: 800 })), "503 ETCD_UNAVAILABLE");
    assert.equal(await outcome(election.leader()), "503 ETCD_UNAVAILABLE");
    assert.ok(Date.now() - started < 3_000, "within the timeouts, plus a call");
    assert.equal(observer.leader, undefined);
    await observer.close();
  });

  it("close() aborts the leadership and ends campaigns with 503 SESSION_LOST", async () => {
    const sync = open();
    const lead = await sync.election("closing").campaign("a");
    const waiting = outcome(sync.election("closing").campaign("b"));
    const observer = sync.election("closing").observe();
    const seen = collect(observer);
    await eventually("observed", () => seen.length > 0);
    await sync.close();
    assert.equal(reasonOf(lead.signal.reason), "503 SESSION_LOST");
    assert.equal(await waiting, "503 SESSION_LOST");
    await observer.close();
    assert.equal((await suite.keys("election/closing/")).length, 0);
  });
});

describe("sync: etcd down while leading", { skip }, () => {
  const suite = syncSuite();

  it("aborts the leader's signal within the TTL; after etcd is back a leader is elected", async () => {
    const ttl = 2;
    const lead = await suite.open().election("outage", { ttl }).campaign("a");
    const standby = suite.open().election("outage", { ttl }).campaign("b");
    // The standby is a candidate (its key exists) before etcd goes down.
    await eventually(
      "b campaigns",
      async () => (await suite.keys("election/outage/")).length === 2,
    );
    const killed = Date.now();
    await suite.etcd.kill();
    const took = await abortedAfter(lead.signal, killed);
    assert.equal(reasonOf(lead.signal.reason), "503 SESSION_LOST");
    assert.ok(took <= ttl * 1000, `aborted ${took} ms after etcd went down (TTL ${ttl} s)`);
    console.log(`# leader signal aborted ${took} ms after etcd was killed (TTL ${ttl * 1000} ms)`);
    await suite.etcd.restart();
    // The standby kept campaigning through the outage (it retries; nothing to do for the caller).
    const next = await standby;
    assert.equal(next.value, "b");
    assert.ok(next.fencingToken > lead.fencingToken);
    await next.resign();
  });
});
