import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { generate, generationRuns, listGenerated } from "../../scripts/generate.js";
import { repoRoot, tempDir } from "../helpers/repo.js";

describe("npm run generate", () => {
  it("reproduces every committed generated file, and no other", () => {
    const out = tempDir();
    try {
      generate(out.path);
      for (const run of generationRuns) {
        for (const dir of run.outDirs) {
          const committedDir = join(repoRoot, run.cwd, dir);
          const regeneratedDir = join(out.path, run.cwd, dir);
          const committed = listGenerated(committedDir);
          const regenerated = listGenerated(regeneratedDir);
          assert.ok(committed.length > 0, `no generated files under ${join(run.cwd, dir)}`);
          assert.deepEqual(committed, regenerated, `generated files under ${join(run.cwd, dir)}`);
          for (const file of committed) {
            const want = readFileSync(join(regeneratedDir, file), "utf8");
            const have = readFileSync(join(committedDir, file), "utf8");
            assert.ok(
              have === want,
              `${join(run.cwd, dir, file)} differs from a fresh generation: run npm run generate`,
            );
          }
        }
      }
      assert.ok(existsSync(join(repoRoot, "api/helloworld/v1/error_reason_errors.ts")));
    } finally {
      out.remove();
    }
  });
});
