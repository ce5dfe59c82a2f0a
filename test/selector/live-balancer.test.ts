// liveBalancer: the balancer named by a live setting picks each call, and a switch applies to
// the next pick with the node list already known.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { liveValue } from "../../src/config/live.js";
import { createSelector } from "../../src/selector/default-selector.js";
import { isBalancerName, liveBalancer } from "../../src/selector/live.js";
import type { BalancerName } from "../../src/selector/live.js";
import { nodesFromUrls } from "../../src/selector/node.js";

describe("liveBalancer", () => {
  it("switches between wrr, random and p2c on the next pick", () => {
    const choice = liveValue<BalancerName>("wrr");
    let n = 0;
    // A fixed sequence for random: p2c and random become predictable.
    const random = () => [0.1, 0.9, 0.5][n++ % 3] ?? 0;
    const selector = createSelector({ balancer: liveBalancer(() => choice.current), random });
    selector.apply(
      nodesFromUrls(["grpc://a:1", "grpc://b:1", "grpc://c:1"].map((u) => new URL(u))),
    );
    const picks = (k: number) =>
      Array.from({ length: k }, () => {
        const s = selector.select();
        s.done();
        return s.node.url.host;
      });
    // wrr with equal weights: a strict rotation over the three nodes.
    const rotation = picks(6);
    assert.equal(new Set(rotation).size, 3);
    assert.deepEqual(rotation.slice(0, 3), rotation.slice(3));

    choice.set("random");
    n = 0;
    // random picks floor(r * 3) of the candidates: 0.1 -> a, 0.9 -> c, 0.5 -> b.
    assert.deepEqual(picks(3), ["a:1", "c:1", "b:1"]);

    choice.set("p2c");
    const p2c = picks(30);
    assert.ok(p2c.every((h) => ["a:1", "b:1", "c:1"].includes(h)));

    // Back to wrr: its state was kept, and it knows the nodes applied before the switch.
    choice.set("wrr");
    assert.equal(new Set(picks(3)).size, 3);
  });

  it("keeps every balancer in step with the node list", () => {
    const choice = liveValue<BalancerName>("random");
    const selector = createSelector({ balancer: liveBalancer(() => choice.current) });
    selector.apply(nodesFromUrls(["grpc://a:1", "grpc://b:1"].map((u) => new URL(u))));
    selector.select().done();
    selector.apply(nodesFromUrls(["grpc://z:1"].map((u) => new URL(u))));
    for (const name of ["p2c", "wrr", "random"] as const) {
      choice.set(name);
      assert.equal(selector.select().node.url.host, "z:1", name);
    }
  });

  it("knows the built-in names", () => {
    assert.ok(isBalancerName("p2c") && isBalancerName("wrr") && isBalancerName("random"));
    assert.ok(!isBalancerName("round-robin") && !isBalancerName(undefined));
  });
});
