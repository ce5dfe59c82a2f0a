import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createContext } from "kratos-ts/context";
import type { Context } from "kratos-ts/context";
import { chain, selector } from "kratos-ts/middleware";
import type { Handler, Middleware } from "kratos-ts/middleware";
import { NodeHeader, setClientTransport, setServerTransport } from "kratos-ts/transport";
import { OperationMatcher } from "../../src/internal/matcher.js";

/** A middleware that records its name around the call. */
function tag(log: string[], name: string): Middleware {
  return (next) => async (ctx, req) => {
    log.push(`${name}>`);
    const reply = await next(ctx, req);
    log.push(`<${name}`);
    return reply;
  };
}

function contextFor(operation: string, side: "server" | "client" = "server"): Context {
  const ctx = createContext();
  const transport = {
    kind: "http" as const,
    endpoint: "http://127.0.0.1:1",
    operation,
    requestHeader: new NodeHeader({}),
    replyHeader: new NodeHeader({}),
  };
  if (side === "server") setServerTransport(ctx, transport);
  else setClientTransport(ctx, transport);
  return ctx;
}

describe("chain", () => {
  it("runs the first middleware outermost", async () => {
    const log: string[] = [];
    const handler: Handler = (_ctx, req) => {
      log.push("handler");
      return Promise.resolve(req);
    };
    const reply = await chain(tag(log, "a"), tag(log, "b"), tag(log, "c"))(handler)(
      createContext(),
      7,
    );
    assert.equal(reply, 7);
    assert.deepEqual(log, ["a>", "b>", "c>", "handler", "<c", "<b", "<a"]);
  });

  it("with no middleware is the handler itself", async () => {
    const handler: Handler = () => Promise.resolve("x");
    assert.equal(chain()(handler), handler);
    assert.equal(await chain()(handler)(createContext(), undefined), "x");
  });
});

describe("OperationMatcher", () => {
  const cases: { selectors: [string, string][]; operation: string; expected: string[] }[] = [
    { selectors: [["/*", "all"]], operation: "/a.B/C", expected: ["all"] },
    { selectors: [["/a.B/*", "svc"]], operation: "/a.B/C", expected: ["svc"] },
    { selectors: [["/a.B/*", "svc"]], operation: "/a.X/C", expected: [] },
    { selectors: [["/a.B/C", "exact"]], operation: "/a.B/C", expected: ["exact"] },
    { selectors: [["/a.B/C", "exact"]], operation: "/a.B/CD", expected: [] },
    {
      selectors: [
        ["/*", "all"],
        ["/a.B/*", "svc"],
        ["/a.B/C", "exact"],
      ],
      operation: "/a.B/C",
      expected: ["all", "exact"],
    },
    {
      selectors: [
        ["/a.*", "pkg"],
        ["/a.B/*", "svc"],
      ],
      operation: "/a.B/C",
      expected: ["svc"],
    },
    {
      selectors: [
        ["/a.B/*", "one"],
        ["/a.B/*", "two"],
      ],
      operation: "/a.B/Z",
      expected: ["one", "two"],
    },
  ];
  for (const c of cases) {
    it(`${c.selectors.map(([s]) => s).join(" + ")} on ${c.operation} -> [${c.expected.join(", ")}]`, async () => {
      const m = new OperationMatcher();
      const log: string[] = [];
      for (const [sel, name] of c.selectors) m.use(sel, tag(log, name));
      await chain(...m.match(c.operation))(() => Promise.resolve(undefined))(
        createContext(),
        undefined,
      );
      assert.deepEqual(
        log.filter((l) => l.endsWith(">")).map((l) => l.slice(0, -1)),
        c.expected,
      );
    });
  }

  it("recomputes after use()", () => {
    const m = new OperationMatcher();
    assert.equal(m.match("/a.B/C").length, 0);
    m.use("/*", (next) => next);
    assert.equal(m.match("/a.B/C").length, 1);
  });
});

describe("selector", () => {
  const cases: {
    options: Parameters<typeof selector.server>[0] extends infer O
      ? Omit<O & object, "middleware">
      : never;
    operation: string;
    selected: boolean;
  }[] = [
    { options: { prefix: ["/a.B/"] }, operation: "/a.B/C", selected: true },
    { options: { prefix: ["/a.B/"] }, operation: "/a.X/C", selected: false },
    { options: { regex: ["^/a\\.B/(C|D)$"] }, operation: "/a.B/D", selected: true },
    { options: { regex: [/E$/] }, operation: "/a.B/D", selected: false },
    { options: { path: ["/a.B/C"] }, operation: "/a.B/C", selected: true },
    { options: { path: ["/a.B/C"] }, operation: "/a.B/CC", selected: false },
    { options: { match: (op) => op.includes("Admin") }, operation: "/a.Admin/X", selected: true },
    { options: {}, operation: "/a.B/C", selected: false },
  ];
  for (const c of cases) {
    it(`${JSON.stringify(c.options, (_k, v: unknown) => (v instanceof RegExp ? String(v) : typeof v === "function" ? "fn" : v))} on ${c.operation}: ${c.selected ? "runs" : "skips"}`, async () => {
      for (const side of ["server", "client"] as const) {
        const log: string[] = [];
        const mw = selector[side]({ ...c.options, middleware: [tag(log, "sel")] });
        await mw(() => Promise.resolve(undefined))(contextFor(c.operation, side), undefined);
        assert.equal(log.length > 0, c.selected, side);
      }
    });
  }

  it("reads only its own side's transport", async () => {
    const log: string[] = [];
    const mw = selector.server({ prefix: ["/"], middleware: [tag(log, "sel")] });
    await mw(() => Promise.resolve(undefined))(contextFor("/a.B/C", "client"), undefined);
    assert.deepEqual(log, []);
  });
});
