import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CancellableContext, createContext } from "../../src/context.js";
import { KratosError } from "../../src/errors/error.js";
import { reasons } from "../../src/errors/reasons.js";
import { nodesFromUrls } from "../../src/selector/index.js";
import type { Node, PickResult } from "../../src/selector/index.js";
import { NodePicker } from "../../src/transport/node-picker.js";
import { markNotSent, notSent } from "../../src/transport/not-sent.js";
import { routeNodes } from "../../src/transport/route-hint.js";
import type { Resolver } from "../../src/transport/resolver.js";

const never = new AbortController().signal;

/** A resolver whose list the test replaces; resolve returns the same array until then. */
function settableResolver(urls: string[]): Resolver & { set(urls: string[]): void } {
  let nodes: readonly Node[] = nodesFromUrls(urls.map((u) => new URL(u)));
  return {
    resolve: () => Promise.resolve(nodes),
    set(next) {
      nodes = nodesFromUrls(next.map((u) => new URL(u)));
    },
  };
}

/** A picker over one node whose balancer records what each call reported. */
function recordingPicker() {
  const results: PickResult[] = [];
  const resolver = settableResolver(["http://a:1"]);
  const picker = new NodePicker(
    resolver,
    {
      balancer: () => ({
        pick: (nodes) => ({
          node: nodes[0] as Node,
          done: (result) => results.push(result),
        }),
      }),
    },
    () => undefined,
  );
  return { picker, results };
}

describe("NodePicker", () => {
  const cases: [string, unknown, boolean][] = [
    ["a success", undefined, false],
    ["a 404 (the caller's business)", new KratosError(404, "NOT_FOUND", "no"), false],
    ["a 400", new KratosError(400, reasons.validator, "bad"), false],
    ["a 503", new KratosError(503, "", "unavailable"), true],
    ["a 504", new KratosError(504, "", "slow"), true],
    ["a refused connection", Object.assign(new Error("refused"), { code: "ECONNREFUSED" }), true],
  ];
  for (const [what, err, blamed] of cases) {
    it(`${what} ${blamed ? "counts" : "does not count"} against the node`, async () => {
      const { picker, results } = recordingPicker();
      const pick = await picker.pick(never);
      pick.done(createContext(), err);
      assert.equal(results.length, 1);
      assert.equal(results[0]?.error !== undefined, blamed);
    });
  }

  it("a caller that gave up ends the call without blaming the node", async () => {
    const { picker, results } = recordingPicker();
    const caller = new AbortController();
    const ctx = new CancellableContext({ signal: caller.signal });
    const pick = await picker.pick(never);
    caller.abort();
    pick.done(ctx, new DOMException("aborted", "AbortError"));
    ctx.dispose();
    assert.equal(results.length, 1);
    assert.equal(results[0]?.error, undefined);
  });

  it("hands the selector and the client a list only when it changed", async () => {
    const resolver = settableResolver(["http://a:1", "http://b:2"]);
    const seen: string[][] = [];
    const picker = new NodePicker(resolver, { balancer: "wrr" }, (nodes) =>
      seen.push(nodes.map((n) => n.url.host)),
    );
    const hosts: string[] = [];
    for (let i = 0; i < 4; i++) hosts.push((await picker.pick(never)).node.url.host);
    assert.deepEqual(hosts, ["a:1", "b:2", "a:1", "b:2"]);
    resolver.set(["http://c:3"]);
    assert.equal((await picker.pick(never)).node.url.host, "c:3");
    assert.deepEqual(seen, [["a:1", "b:2"], ["c:3"]]);
  });

  describe("call", () => {
    const refused = () =>
      Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" });

    it("moves a request that never reached its node to another node", async () => {
      const resolver = settableResolver(["http://dead:1", "http://live:2"]);
      const picker = new NodePicker(resolver, { balancer: "wrr" }, () => undefined);
      const attempts: string[] = [];
      const reply = await picker.call(createContext(), (node) => {
        attempts.push(node.url.host);
        return node.url.host === "dead:1" ? Promise.reject(refused()) : Promise.resolve("ok");
      });
      assert.equal(reply, "ok");
      assert.deepEqual(attempts, ["dead:1", "live:2"]);
    });

    it("throws the last attempt's error once every node refused, trying each once", async () => {
      const resolver = settableResolver(["http://a:1", "http://b:2", "http://c:3"]);
      const picker = new NodePicker(resolver, {}, () => undefined);
      const attempts: string[] = [];
      await assert.rejects(
        picker.call(createContext(), (node) => {
          attempts.push(node.url.host);
          return Promise.reject(refused());
        }),
        /ECONNREFUSED/,
      );
      assert.deepEqual([...attempts].sort(), ["a:1", "b:2", "c:3"]);
    });

    it("keeps a call to the nodes its route allows, applied after the nodes it tried", async () => {
      const resolver = settableResolver(["http://a:1", "http://b:2", "http://canary:3"]);
      const picker = new NodePicker(resolver, { balancer: "wrr" }, () => undefined);
      const canaryFirst = (nodes: Node[]) => {
        // A route with a fallback: the canary while it is live for this call, else the rest.
        const canary = nodes.filter((n) => n.url.hostname === "canary");
        return canary.length > 0 ? canary : nodes;
      };
      const ctx = createContext();
      routeNodes(ctx, canaryFirst);
      const attempts: string[] = [];
      const reply = await picker.call(ctx, (node) => {
        attempts.push(node.url.host);
        return node.url.host === "canary:3" ? Promise.reject(refused()) : Promise.resolve("ok");
      });
      // The canary refused before the request was sent: the route saw it gone and fell back.
      assert.equal(reply, "ok");
      assert.equal(attempts[0], "canary:3");
      assert.equal(attempts.length, 2);

      const none = createContext();
      routeNodes(none, () => []);
      await assert.rejects(
        picker.call(none, () => Promise.resolve("sent")),
        { code: 503, reason: reasons.nodeNotFound },
      );
    });

    const kept: [string, unknown][] = [
      ["a 503 the server sent", new KratosError(503, "", "unavailable")],
      ["a reset mid-request", Object.assign(new Error("reset"), { code: "ECONNRESET" })],
    ];
    for (const [what, err] of kept) {
      it(`does not send again after ${what}: the server may have done the work`, async () => {
        const resolver = settableResolver(["http://a:1", "http://b:2"]);
        const picker = new NodePicker(resolver, {}, () => undefined);
        let attempts = 0;
        await assert.rejects(
          picker.call(createContext(), () => {
            attempts++;
            return Promise.reject(err);
          }),
          (thrown: unknown) => thrown === err,
        );
        assert.equal(attempts, 1);
      });
    }
  });
});

describe("notSent", () => {
  const cases: [string, unknown, boolean][] = [
    ["a refused connection", Object.assign(new Error("x"), { code: "ECONNREFUSED" }), true],
    [
      "a refused connection under two wrappers",
      new KratosError(503, "", "x", {
        cause: new Error("y", { cause: Object.assign(new Error("z"), { code: "ECONNREFUSED" }) }),
      }),
      true,
    ],
    [
      "a session going away",
      Object.assign(new Error("x"), { code: "ERR_HTTP2_GOAWAY_SESSION" }),
      true,
    ],
    [
      "a refused stream",
      Object.assign(new Error("Stream closed with error code NGHTTP2_REFUSED_STREAM"), {
        code: "ERR_HTTP2_STREAM_ERROR",
      }),
      true,
    ],
    [
      "a cancelled stream",
      Object.assign(new Error("Stream closed with error code NGHTTP2_CANCEL"), {
        code: "ERR_HTTP2_STREAM_ERROR",
      }),
      false,
    ],
    ["an error the client marked", markNotSent(new Error("reset on a reused socket")), true],
    ["a reset", Object.assign(new Error("x"), { code: "ECONNRESET" }), false],
    ["a string", "ECONNREFUSED", false],
    ["undefined", undefined, false],
  ];
  for (const [what, err, want] of cases) {
    it(`${what}: ${want ? "not sent" : "maybe sent"}`, () => {
      assert.equal(notSent(err), want);
    });
  }
});
