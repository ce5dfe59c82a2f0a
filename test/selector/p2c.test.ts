import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createSelector, p2cBalancer } from "../../src/selector/index.js";
import type { Node, Selector } from "../../src/selector/index.js";
import { host, manualClock, node, seededRandom } from "./fixtures.js";

/** How each node behaves: latency in ms, and whether its calls fail. */
type Behaviour = Record<string, { latency: number; fail?: boolean }>;

/**
 * Runs `count` sequential calls: select, advance the clock by the node's latency, done. Returns
 * the picked hosts with the time of each pick.
 */
function run(
  selector: Selector,
  clock: ReturnType<typeof manualClock>,
  behaviour: Behaviour,
  count: number,
): { host: string; at: number }[] {
  const picks: { host: string; at: number }[] = [];
  for (let i = 0; i < count; i++) {
    const at = clock.now();
    const selected = selector.select();
    const h = host(selected.node);
    const b = behaviour[h];
    assert.ok(b !== undefined, h);
    clock.advance(b.latency);
    selected.done(b.fail === true ? { error: new Error("503") } : {});
    picks.push({ host: h, at });
  }
  return picks;
}

function count(picks: { host: string }[], h: string): number {
  return picks.filter((p) => p.host === h).length;
}

function setup(
  names: string[],
  seed = 1,
): { selector: Selector; clock: ReturnType<typeof manualClock> } {
  const clock = manualClock();
  const selector = createSelector({ now: clock.now, random: seededRandom(seed) });
  selector.apply(names.map((n): Node => node(n)));
  return { selector, clock };
}

describe("p2c balancer (the default)", () => {
  it("prefers the faster node under injected latency", () => {
    const { selector, clock } = setup(["a", "b"]);
    const picks = run(selector, clock, { a: { latency: 10 }, b: { latency: 100 } }, 1000);
    // b only gets the forced picks that refresh its stats: one per 3 s of a's 10 ms calls.
    assert.ok(count(picks, "a") >= 980, `a: ${count(picks, "a")}`);
    assert.ok(count(picks, "b") >= 2, `b: ${count(picks, "b")}`);
  });

  const rankings: [string, Behaviour, string[]][] = [
    [
      "10/50/100 ms",
      { a: { latency: 10 }, b: { latency: 50 }, c: { latency: 100 } },
      ["a", "b", "c"],
    ],
    [
      "100/10/50 ms",
      { a: { latency: 100 }, b: { latency: 10 }, c: { latency: 50 } },
      ["b", "c", "a"],
    ],
  ];
  for (const [what, behaviour, order] of rankings) {
    it(`ranks three nodes by latency (${what})`, () => {
      const { selector, clock } = setup(Object.keys(behaviour), 7);
      const picks = run(selector, clock, behaviour, 3000);
      const [fast = 0, middle = 0, slow = 0] = order.map((h) => count(picks, h));
      assert.ok(fast > middle && middle > slow, `${order.join(",")}: ${fast},${middle},${slow}`);
      // Two random draws: the fastest wins every pair it is in (2/3 of them).
      assert.ok(fast > 1800, `fastest: ${fast}`);
    });
  }

  it("penalizes failures at equal latency", () => {
    const { selector, clock } = setup(["a", "b"]);
    const picks = run(
      selector,
      clock,
      { a: { latency: 10 }, b: { latency: 10, fail: true } },
      1000,
    );
    assert.ok(count(picks, "b") <= 20, `b: ${count(picks, "b")}`);
  });

  it("shares evenly between equal nodes", () => {
    const { selector, clock } = setup(["a", "b", "c", "d"], 3);
    const behaviour = {
      a: { latency: 10 },
      b: { latency: 10 },
      c: { latency: 10 },
      d: { latency: 10 },
    };
    // Concurrent calls: hold 40 open, then finish them; the inflight count spreads them.
    const open = Array.from({ length: 40 }, () => selector.select());
    const counts = ["a", "b", "c", "d"].map((h) => open.filter((s) => host(s.node) === h).length);
    for (const c of counts) assert.ok(c >= 7 && c <= 13, counts.join(","));
    clock.advance(10);
    for (const s of open) s.done();
    assert.equal(run(selector, clock, behaviour, 10).length, 10);
  });

  const forced: [string, number | undefined, number][] = [
    ["the default 3 s", undefined, 3000],
    ["a configured 1 s", 1000, 1000],
  ];
  for (const [what, forcePickAfter, gap] of forced) {
    it(`picks a slow node forcibly once it has been idle longer than ${what}`, () => {
      const clock = manualClock();
      const selector = createSelector({
        balancer: p2cBalancer(forcePickAfter === undefined ? {} : { forcePickAfter }),
        now: clock.now,
        random: seededRandom(5),
      });
      selector.apply([node("a"), node("b")]);
      const picks = run(selector, clock, { a: { latency: 10 }, b: { latency: 100 } }, 1500);
      const times = picks.filter((p) => p.host === "b").map((p) => p.at);
      // Skip the first picks, which probe the new nodes.
      const steady = times.filter((t) => t > 500);
      assert.ok(steady.length >= 3, times.join(","));
      for (const [i, at] of steady.entries()) {
        if (i === 0) continue;
        const elapsed = at - (steady[i - 1] ?? 0);
        // b's idle time counts from its pick; it is picked at the first select after the gap.
        assert.ok(
          elapsed > gap && elapsed <= gap + 100 + 10,
          `gap ${elapsed} in ${steady.join(",")}`,
        );
      }
    });
  }

  it("notices a node whose calls hang before any of them ends", () => {
    const { selector, clock } = setup(["a", "b"]);
    run(selector, clock, { a: { latency: 10 }, b: { latency: 10 } }, 50);
    // b stops answering: its calls stay open while a keeps answering in 10 ms.
    const hanging: ReturnType<Selector["select"]>[] = [];
    let aPicks = 0;
    for (let i = 0; i < 200; i++) {
      const s = selector.select();
      if (host(s.node) === "b") hanging.push(s);
      else {
        aPicks++;
        clock.advance(10);
        s.done();
      }
    }
    assert.ok(hanging.length <= 10, `b got ${hanging.length} calls while hanging`);
    assert.ok(aPicks >= 190);
  });

  it("keeps stats across apply for nodes that stay, and forgets nodes that leave", () => {
    const { selector, clock } = setup(["a", "b"]);
    const behaviour = { a: { latency: 10 }, b: { latency: 100 } };
    run(selector, clock, behaviour, 100); // b was probed at the start, then lost every draw
    // A resolver update rebuilds the same nodes: b keeps its slow stats and recent pick, so
    // it is neither preferred nor probed again before 3 s.
    selector.apply([node("a"), node("b")]);
    assert.equal(count(run(selector, clock, behaviour, 100), "b"), 0);
    // b leaves and comes back: a new node without stats gets probed at once.
    selector.apply([node("a")]);
    selector.apply([node("a"), node("b")]);
    assert.ok(count(run(selector, clock, behaviour, 5), "b") >= 1);
  });
});
