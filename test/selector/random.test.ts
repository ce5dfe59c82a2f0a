import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createSelector } from "../../src/selector/index.js";
import { host, node, seededRandom } from "./fixtures.js";

describe("random balancer", () => {
  const cases: [string, number, string][] = [
    ["0 -> the first node", 0, "a"],
    ["0.34 -> the second", 0.34, "b"],
    ["0.999 -> the last", 0.999, "c"],
    ["1 (a broken random) -> clamped to the last", 1, "c"],
  ];
  for (const [what, value, want] of cases) {
    it(`maps ${what}`, () => {
      const selector = createSelector({ balancer: "random", random: () => value });
      selector.apply([node("a"), node("b"), node("c")]);
      assert.equal(host(selector.select().node), want);
    });
  }

  it("covers every node, about evenly, ignoring weights", () => {
    const selector = createSelector({ balancer: "random", random: seededRandom(42) });
    selector.apply([node("a", { weight: 1000 }), node("b", { weight: 1 }), node("c")]);
    const counts = new Map<string, number>();
    for (let i = 0; i < 3000; i++) {
      const h = host(selector.select().node);
      counts.set(h, (counts.get(h) ?? 0) + 1);
    }
    assert.deepEqual([...counts.keys()].sort(), ["a", "b", "c"]);
    for (const [h, count] of counts) assert.ok(count > 850 && count < 1150, `${h}: ${count}`);
  });
});
