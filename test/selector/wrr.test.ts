import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createSelector } from "../../src/selector/index.js";
import { host, node } from "./fixtures.js";

/** Picks `count` times from nodes a, b, c, ... with the given weights; returns the hosts. */
function picks(weights: number[], count: number): string[] {
  const selector = createSelector({ balancer: "wrr" });
  selector.apply(weights.map((weight, i) => node(String.fromCharCode(97 + i), { weight })));
  return Array.from({ length: count }, () => host(selector.select().node));
}

describe("wrr balancer", () => {
  const cycles: [number[], string][] = [
    [[5, 1, 1], "aabacaa"], // nginx's example
    [[1, 1, 1], "abc"],
    [[2, 1], "aba"],
    [[3, 2], "ababa"],
    [[100, 100, 200], "cabc"],
  ];
  for (const [weights, sequence] of cycles) {
    it(`picks ${sequence} for weights ${weights.join(",")}, cycle after cycle`, () => {
      assert.equal(picks(weights, sequence.length * 3).join(""), sequence.repeat(3));
    });
  }

  const counts: number[][] = [
    [5, 1, 1],
    [3, 2, 1],
    [7, 3, 11, 1],
  ];
  for (const weights of counts) {
    it(`picks each node exactly its weight per cycle for weights ${weights.join(",")}`, () => {
      const total = weights.reduce((a, b) => a + b, 0);
      const got = picks(weights, total * 10);
      for (let cycle = 0; cycle < 10; cycle++) {
        const slice = got.slice(cycle * total, (cycle + 1) * total);
        weights.forEach((weight, i) => {
          const name = String.fromCharCode(97 + i);
          assert.equal(slice.filter((h) => h === name).length, weight, `${name} in cycle ${cycle}`);
        });
      }
    });
  }

  it("spreads a heavy node out instead of picking it in a row (smoothness)", () => {
    // Plain weighted round robin would pick a 10 times in a row; smooth wrr interleaves b and c.
    const got = picks([10, 1, 1], 12).join("");
    const longestRun = Math.max(...got.split(/[bc]/).map((run) => run.length));
    assert.ok(longestRun <= 5, `longest run of a in ${got}`);
    assert.notEqual(got.indexOf("b"), -1);
    assert.ok(Math.abs(got.indexOf("b") - got.indexOf("c")) > 1, got);
  });

  it("keeps its rotation when apply rebuilds the same nodes", () => {
    const selector = createSelector({ balancer: "wrr" });
    const build = (): ReturnType<typeof node>[] => [
      node("a", { weight: 5 }),
      node("b", { weight: 1 }),
      node("c", { weight: 1 }),
    ];
    const got: string[] = [];
    for (let i = 0; i < 7; i++) {
      selector.apply(build()); // fresh Node objects each time, same hrefs
      got.push(host(selector.select().node));
    }
    assert.equal(got.join(""), "aabacaa");
  });

  it("forgets nodes that leave, so a returning node starts afresh", () => {
    const selector = createSelector({ balancer: "wrr" });
    selector.apply([node("a", { weight: 2 }), node("b", { weight: 1 })]);
    assert.equal(host(selector.select().node), "a"); // a: 2 - 3 = -1, b: 1
    selector.apply([node("b", { weight: 1 })]);
    selector.apply([node("a", { weight: 2 }), node("b", { weight: 1 })]);
    // Forgotten, a restarts at 0 and ties b at 2 (ties go to the first); had it kept -1, b wins.
    assert.equal(host(selector.select().node), "a");
  });
});
