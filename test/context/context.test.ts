import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createContext, createContextKey } from "kratos-ts/context";

describe("context values", () => {
  it("returns the default until set, and falls back to the parent", () => {
    const key = createContextKey("default", "k");
    const parent = createContext();
    assert.equal(parent.values.get(key), "default");
    parent.values.set(key, "parent");
    const child = createContext({ parent });
    assert.equal(child.values.get(key), "parent");
    assert.ok(child.values.has(key));
    child.values.set(key, "child");
    assert.equal(child.values.get(key), "child");
    assert.equal(parent.values.get(key), "parent");
    child.values.delete(key);
    assert.equal(child.values.get(key), "parent");
  });
});

describe("context cancellation", () => {
  it("aborts with the given reason, also when signal is read afterwards", () => {
    const ctx = createContext();
    const reason = new Error("stop");
    ctx.abort(reason);
    assert.ok(ctx.aborted);
    assert.ok(ctx.signal.aborted);
    assert.equal(ctx.signal.reason, reason);
  });

  it("aborts with a TimeoutError at the deadline", async () => {
    const ctx = createContext({ timeoutMs: 10 });
    assert.ok(ctx.deadline !== undefined && ctx.deadline > Date.now() - 1);
    const reason = await new Promise<unknown>((resolve) => {
      ctx.signal.addEventListener("abort", () => {
        resolve(ctx.signal.reason);
      });
    });
    assert.ok(reason instanceof DOMException);
    assert.equal(reason.name, "TimeoutError");
  });

  it("takes the earlier of its own and the parent's deadline", () => {
    const parent = createContext({ timeoutMs: 1_000 });
    const shorter = createContext({ parent, timeoutMs: 10 });
    const longer = createContext({ parent, timeoutMs: 60_000 });
    assert.ok((shorter.deadline ?? Infinity) < (parent.deadline ?? 0));
    assert.equal(longer.deadline, parent.deadline);
    for (const c of [parent, shorter, longer]) c.dispose();
  });

  it("follows the parent's and an extra signal's abort, and stops listening on dispose", () => {
    const parent = createContext();
    const child = createContext({ parent });
    assert.ok(!child.signal.aborted);
    parent.abort(new Error("parent gone"));
    assert.ok(child.signal.aborted);
    const extra = new AbortController();
    const other = createContext({ signal: extra.signal });
    assert.ok(!other.signal.aborted);
    other.dispose();
    extra.abort();
    assert.ok(!other.signal.aborted, "disposed contexts no longer follow other signals");
  });
});
