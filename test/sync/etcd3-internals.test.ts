import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { cancelWatchers, leaseOf, watchersOf } from "../../src/sync/etcd3-internals.js";
import { etcdSkip, eventually } from "../helpers/etcd.js";
import { syncSuite } from "./harness.js";

// kratos-ts/sync reads two private parts of etcd3; these tests fail when an etcd3 release
// renames them, instead of locks that silently stop aborting or processes that never exit.
describe("sync: the etcd3 internals it relies on", { skip: etcdSkip() }, () => {
  const suite = syncSuite();

  it("finds the lease of a Lock and of a Campaign", async () => {
    const lock = suite.raw.lock("internals-lock").ttl(5);
    await lock.acquire();
    assert.equal(await leaseOf(lock).grant(), await lock.leaseId());
    await lock.release();
    const campaign = suite.raw.election("internals", 5).campaign("x");
    await campaign.wait();
    assert.equal(
      await campaign.getCampaignKey(),
      `election/internals/${await leaseOf(campaign).grant()}`,
    );
    await campaign.resign();
  });

  it("finds and cancels the watchers of a namespace and of an election", async () => {
    const ns = suite.raw.namespace("/internals/");
    await ns.watch().key("k").create();
    assert.equal(watchersOf(ns).length, 1);
    await cancelWatchers(ns, 1_000);
    assert.equal(watchersOf(ns).length, 0);

    // A candidate behind a leader watches the leader's key; resigning does not end that watch.
    const leader = suite.raw.election("internals-2", 5).campaign("leader");
    await leader.wait();
    const election = suite.raw.election("internals-2", 5);
    const standby = election.campaign("standby");
    standby.on("error", () => undefined);
    await eventually("the standby watches the leader", () => watchersOf(election).length === 1);
    await standby.resign();
    assert.equal(watchersOf(election).length, 1);
    await cancelWatchers(election, 1_000);
    assert.equal(watchersOf(election).length, 0);
    await leader.resign();
  });
});
