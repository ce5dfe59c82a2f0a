import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { KratosError } from "../../src/errors/index.js";
import { createSelector, metadataFilter, versionFilter } from "../../src/selector/index.js";
import type {
  BalancerFactory,
  NodeFilter,
  PickResult,
  Selector,
} from "../../src/selector/index.js";
import { host, manualClock, node } from "./fixtures.js";

function assertNodeNotFound(selector: Selector, filters?: NodeFilter[], message?: RegExp): void {
  assert.throws(
    () => selector.select(filters === undefined ? undefined : { filters }),
    (err: unknown) => {
      assert.ok(err instanceof KratosError);
      assert.equal(err.code, 503);
      assert.equal(err.reason, "NODE_NOT_FOUND");
      if (message !== undefined) assert.match(err.message, message);
      return true;
    },
  );
}

const nodes = [
  node("a", { version: "v1", metadata: { zone: "x", env: "prod" } }),
  node("b", { version: "v2", metadata: { zone: "y", env: "prod" } }),
  node("c", { version: "v2", metadata: { zone: "x" } }),
];

/** Hosts that a wrr selector over `nodes` picks in 30 calls, sorted and deduplicated. */
function reachable(selector: Selector, filters?: NodeFilter[]): string[] {
  const seen = new Set<string>();
  for (let i = 0; i < 30; i++) {
    seen.add(host(selector.select(filters === undefined ? {} : { filters }).node));
  }
  return [...seen].sort();
}

describe("selector", () => {
  it("throws 503 NODE_NOT_FOUND before any apply and after apply([])", () => {
    const selector = createSelector();
    assertNodeNotFound(selector, undefined, /no nodes/);
    selector.apply(nodes);
    assert.ok(selector.select().node);
    selector.apply([]);
    assertNodeNotFound(selector, undefined, /no nodes/);
  });

  const filterCases: [string, NodeFilter[], string[]][] = [
    ["version v2", [versionFilter("v2")], ["b", "c"]],
    ["version v1", [versionFilter("v1")], ["a"]],
    ["metadata zone=x", [metadataFilter({ zone: "x" })], ["a", "c"]],
    ["metadata zone=x, env=prod", [metadataFilter({ zone: "x", env: "prod" })], ["a"]],
    ["empty metadata match", [metadataFilter({})], ["a", "b", "c"]],
    ["custom: not b", [(ns) => ns.filter((n) => host(n) !== "b")], ["a", "c"]],
    ["version v2 then zone=x", [versionFilter("v2"), metadataFilter({ zone: "x" })], ["c"]],
  ];
  for (const [what, filters, want] of filterCases) {
    it(`filters per call: ${what}`, () => {
      const selector = createSelector({ balancer: "wrr" });
      selector.apply(nodes);
      assert.deepEqual(reachable(selector, filters), want);
    });
    it(`filters on every call when configured: ${what}`, () => {
      const selector = createSelector({ balancer: "wrr", filters });
      selector.apply(nodes);
      assert.deepEqual(reachable(selector), want);
    });
  }

  const emptyCases: [string, NodeFilter[]][] = [
    ["an unknown version", [versionFilter("v3")]],
    ["a metadata value nobody has", [metadataFilter({ zone: "z" })]],
    ["a key nobody has", [metadataFilter({ toString: "x" })]],
    ["a custom filter that drops all", [() => []]],
    ["filters that exclude each other", [versionFilter("v1"), metadataFilter({ zone: "y" })]],
  ];
  for (const [what, filters] of emptyCases) {
    it(`throws NODE_NOT_FOUND when filters remove every node: ${what}`, () => {
      const selector = createSelector();
      selector.apply(nodes);
      assertNodeNotFound(selector, filters, /none of 3 nodes passed the filters/);
    });
  }

  it("applies its own filters before the per-call ones", () => {
    const order: string[] = [];
    const tag =
      (name: string): NodeFilter =>
      (ns) => {
        order.push(name);
        return ns;
      };
    const selector = createSelector({ filters: [tag("own")] });
    selector.apply(nodes);
    selector.select({ filters: [tag("call")] });
    assert.deepEqual(order, ["own", "call"]);
  });

  it("gives filters a copy, so one that mutates cannot shrink the node list", () => {
    const selector = createSelector({ balancer: "wrr" });
    selector.apply(nodes);
    const greedy: NodeFilter = (ns) => {
      ns.splice(1);
      return ns;
    };
    assert.equal(host(selector.select({ filters: [greedy] }).node), "a");
    assert.deepEqual(reachable(selector), ["a", "b", "c"]);
  });

  it("measures latency itself, reports errors, and counts done only once", () => {
    const clock = manualClock();
    const results: PickResult[] = [];
    const envs: number[] = [];
    const recording: BalancerFactory = (env) => {
      envs.push(env.random());
      return {
        pick: (ns) => ({ node: ns[0] ?? node("none"), done: (r) => results.push(r) }),
      };
    };
    const selector = createSelector({ balancer: recording, now: clock.now, random: () => 0.25 });
    selector.apply(nodes);
    assert.deepEqual(envs, [0.25]);

    const first = selector.select();
    clock.advance(42);
    first.done();
    first.done({ error: new Error("late") }); // ignored: already done
    const second = selector.select();
    clock.advance(7);
    const error = new Error("unavailable");
    second.done({ error });
    assert.deepEqual(results, [{ latency: 42 }, { latency: 7, error }]);
  });

  it("lists an endpoint applied twice once", () => {
    const selector = createSelector({ balancer: "wrr" });
    selector.apply([node("a"), node("a"), node("b")]);
    const picks = Array.from({ length: 4 }, () => host(selector.select().node));
    assert.deepEqual(picks, ["a", "b", "a", "b"]);
  });

  it("uses p2c by default, with the real clock and random", () => {
    const selector = createSelector();
    selector.apply(nodes);
    const selected = selector.select();
    selected.done();
    assert.ok(["a", "b", "c"].includes(host(selected.node)));
  });
});
