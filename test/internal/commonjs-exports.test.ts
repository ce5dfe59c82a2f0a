import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { commonJsExports } from "../../src/internal/commonjs-exports.js";

describe("commonJsExports", () => {
  it("takes default when a bundle gave only that", () => {
    const exports = { connect: () => "connected" };
    assert.equal(commonJsExports({ default: exports }), exports);
    assert.equal(commonJsExports({ default: exports, "module.exports": exports }), exports);
  });

  it("keeps Node's namespace, which has the exports by name", () => {
    const exports = { connect: () => "connected" };
    const namespace = { default: exports, connect: exports.connect };
    assert.equal(commonJsExports(namespace), namespace);
  });

  it("takes a function module.exports, and leaves a primitive default alone", () => {
    const fn = Object.assign(() => "called", { helper: 1 });
    assert.equal(commonJsExports({ default: fn }), fn);
    const primitive = { default: 42 };
    assert.equal(commonJsExports(primitive), primitive);
  });

  it("reads the real packages the same through Node's import", async () => {
    const core = await import("@nats-io/transport-node");
    assert.equal(typeof commonJsExports(core).connect, "function");
  });
});
