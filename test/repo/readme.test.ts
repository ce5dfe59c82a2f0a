import assert from "node:assert/strict";
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
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

describe("README truth", () => {
  const readme = readFileSync(join(repoRoot, "README.md"), "utf8");
  const commands = readdirSync(join(repoRoot, "cmd"));
  const section = (title: string) => {
    const start = readme.indexOf(`\n## ${title}`);
    assert.ok(start >= 0, `section ${title}`);
    const end = readme.indexOf("\n## ", start + 1);
    return readme.slice(start, end < 0 ? undefined : end);
  };

  it("names every generator in the status and nothing as coming next", () => {
    const status = readme.slice(readme.indexOf("**Status:"), readme.indexOf("\n## Quick start"));
    for (const plugin of commands.filter((c) => c.startsWith("protoc-gen-"))) {
      assert.ok(status.includes(plugin), `status names ${plugin}`);
    }
    assert.doesNotMatch(status, /comes next/);
    assert.match(status, /not on the npm registry/);
  });

  it("lists every command folder in the repository layout", () => {
    const layout = section("Repository layout");
    for (const command of commands) assert.ok(layout.includes(command), `cmd/${command} listed`);
  });

  it("gives a command that works with the repo's own tools beside every grpcurl example", () => {
    for (const block of readme.split("```").filter((_, i) => i % 2 === 1)) {
      if (!/^sh\b/.test(block) || !block.includes("grpcurl")) continue;
      assert.match(block, /npx buf curl/, `a buf curl twin in:\n${block}`);
    }
    assert.match(section("The layout service"), /npx buf curl --protocol grpc/);
  });

  it("tells how to get the CLI and the kit without the registry", () => {
    const cli = section("CLI: from nothing to a running service");
    assert.match(cli, /npm link/);
    assert.match(cli, /npx --package=\.\/kratos-ts-[\d.]+\.tgz kratos-ts new/);
    assert.match(section("Use the kit in your own project"), /npm pack/);
  });
});
