import assert from "node:assert/strict";
import { copyFileSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { bin, repoRoot, run, tempDir } from "./repo.js";
import type { RunResult } from "./repo.js";

/**
 * Runs one of our compiled protoc plugins through buf on one fixture file, in a throwaway
 * workspace that links the repo's third_party, and checks that nothing was left half-written.
 */
export function generateWithPlugin(plugin: string, fixtureDir: string, file: string): RunResult {
  const dir = tempDir();
  try {
    mkdirSync(join(dir.path, "proto"));
    copyFileSync(join(repoRoot, fixtureDir, file), join(dir.path, "proto", file));
    symlinkSync(join(repoRoot, "third_party"), join(dir.path, "third_party"));
    writeFileSync(
      join(dir.path, "buf.yaml"),
      "version: v2\nmodules:\n  - path: proto\n  - path: third_party\n",
    );
    const main = join(repoRoot, "dist/cmd", plugin, "main.js");
    writeFileSync(
      join(dir.path, "buf.gen.yaml"),
      `version: v2\ninputs:\n  - directory: proto\nplugins:\n  - local: [node, ${main}]\n    out: gen\n`,
    );
    const r = run(bin("buf"), ["generate"], dir.path);
    if (r.status !== 0) {
      assert.equal(
        run("ls", [dir.path]).stdout.split("\n").includes("gen"),
        false,
        "no output on failure",
      );
    }
    return r;
  } finally {
    dir.remove();
  }
}
