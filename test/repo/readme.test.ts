import assert from "node:assert/strict";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { reasons } from "kratos-ts/errors";
import { repoRoot, run } from "../helpers/repo.js";

/** The README's runnable examples: fenced blocks whose info string is `ts run`. */
function runnableExamples(): string[] {
  const readme = readFileSync(join(repoRoot, "README.md"), "utf8");
  return Array.from(readme.matchAll(/^```ts run\n([\s\S]*?)^```$/gm), (m) => m[1] ?? "");
}

describe("README examples", () => {
  const examples = runnableExamples();

  it("exist", () => {
    assert.ok(examples.length >= 2);
  });

  examples.forEach((code, i) => {
    it(`example ${i + 1} runs`, () => {
      // dist/ mirrors the project root, so `./api/...js` and `kratos-ts` resolve as in the README.
      // Node 24 strips the types of the .ts file itself.
      const file = join(repoRoot, "dist", `readme-example-${i + 1}.ts`);
      writeFileSync(file, code);
      try {
        const r = run("node", [file]);
        assert.equal(r.status, 0, r.stderr);
      } finally {
        rmSync(file, { force: true });
      }
    });
  });
});

describe("README error reason catalog", () => {
  it("lists every reason kratos-ts raises", () => {
    const readme = readFileSync(join(repoRoot, "README.md"), "utf8");
    for (const reason of Object.values(reasons)) {
      assert.match(readme, new RegExp(`\\| \`${reason}\` +\\|`), `README lists ${reason}`);
    }
  });
});
