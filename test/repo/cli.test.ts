import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import { repoRoot, run } from "../helpers/repo.js";

const cli = join(repoRoot, "dist/cmd/kratos-ts/main.js");

describe("kratos-ts CLI", () => {
  it("prints help with --help and without arguments", () => {
    for (const args of [["--help"], ["-h"], []]) {
      const r = run("node", [cli, ...args]);
      assert.equal(r.status, 0);
      assert.match(r.stdout, /^Usage: kratos-ts/);
    }
  });

  it("prints the version with -v", () => {
    const r = run("node", [cli, "-v"]);
    assert.equal(r.status, 0);
    assert.match(r.stdout, /^\d+\.\d+\.\d+\n$/);
  });

  for (const [arg, what] of [
    ["frobnicate", "command"],
    ["--frobnicate", "option"],
  ]) {
    it(`rejects an unknown ${what} with one line and a non-zero exit`, () => {
      const r = run("node", [cli, arg ?? ""]);
      assert.equal(r.status, 2);
      assert.equal(r.stdout, "");
      assert.equal(
        r.stderr,
        `kratos-ts: unknown ${what ?? ""} "${arg ?? ""}" (see kratos-ts --help)\n`,
      );
    });
  }
});
