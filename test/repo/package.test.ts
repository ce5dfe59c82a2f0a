import assert from "node:assert/strict";
import { accessSync, constants, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { serviceNodeFlags } from "../../src/internal/node-flags.js";
import { repoRoot, run } from "../helpers/repo.js";

interface PackageJson {
  name: string;
  version: string;
  type: string;
  engines: { node: string };
  devDependencies: Record<string, string>;
  exports: Record<string, string | Record<string, string>>;
  bin: Record<string, string>;
  scripts: Record<string, string>;
}

const pkg = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as PackageJson;

describe("package.json", () => {
  it("is an ESM package for the Node it pins, as README, engines and the guard say", () => {
    assert.equal(pkg.name, "kratos-ts");
    assert.equal(pkg.type, "module");
    const pinned = /^(\d+)\./.exec(pkg.devDependencies["node"] ?? "")?.[1];
    assert.equal(pkg.engines.node, `>=${pinned ?? "?"}`);
    assert.match(
      readFileSync(join(repoRoot, "scripts", "check-node.mjs"), "utf8"),
      new RegExp(`major < ${pinned ?? "?"}\\b`),
    );
    const readme = readFileSync(join(repoRoot, "README.md"), "utf8");
    assert.match(readme, new RegExp(`Node ${pinned ?? "?"}\\b`));
    assert.doesNotMatch(readme, /Node >= ?2[0-3] (with npm on the PATH )?is enough/);
  });

  it("installs quietly on an older Node: the pinned Node runs everything, npm prints errors only", () => {
    // npm runs on the system Node and would warn EBADENGINE for each package needing Node >= 22.
    const npmrc = readFileSync(join(repoRoot, ".npmrc"), "utf8");
    assert.match(npmrc, /^loglevel=error$/m);
    assert.equal(
      readFileSync(join(repoRoot, "layout", "npmrc"), "utf8").match(/^loglevel=.*$/m)?.[0],
      "loglevel=error",
    );
  });

  it("exports subpaths whose types and code exist and load", async () => {
    for (const [subpath, target] of Object.entries(pkg.exports)) {
      if (typeof target === "string" || subpath.includes("*")) continue;
      for (const condition of ["types", "default", "kratos-ts-source"]) {
        const file = target[condition];
        assert.ok(file, `${subpath} has a ${condition} condition`);
        accessSync(join(repoRoot, file));
      }
      const specifier = subpath === "." ? "kratos-ts" : `kratos-ts/${subpath.slice(2)}`;
      const mod = (await import(specifier)) as Record<string, unknown>;
      assert.ok(Object.keys(mod).length > 0, `${specifier} exports something`);
    }
  });

  it("exports the generated third_party messages", async () => {
    const mod = (await import("kratos-ts/gen/google/rpc/error_details_pb.js")) as Record<
      string,
      unknown
    >;
    assert.ok("ErrorInfoSchema" in mod);
  });

  it("has bin entries that exist and run", () => {
    for (const [name, file] of Object.entries(pkg.bin)) {
      // Executable after every build: `npm link` points at these files and sets no mode again.
      accessSync(join(repoRoot, file), constants.R_OK | constants.X_OK);
      assert.match(readFileSync(join(repoRoot, file), "utf8"), /^#!\/usr\/bin\/env node\n/, name);
    }
    const cli = run("node", [join(repoRoot, pkg.bin["kratos-ts"] ?? ""), "--version"]);
    assert.equal(cli.status, 0, cli.stderr);
    assert.equal(cli.stdout.trim(), pkg.version);
    const plugin = run("node", [
      join(repoRoot, pkg.bin["protoc-gen-kratos-errors"] ?? ""),
      "--version",
    ]);
    assert.equal(plugin.stdout.trim(), `protoc-gen-kratos-errors v${pkg.version}`);
  });

  it("starts the layout service with the service's Node flags, exec'd so signals reach it", () => {
    assert.equal(
      pkg.scripts.start,
      `npm run build && exec node ${serviceNodeFlags.join(" ")} dist/bundle/server/main.js -conf ./configs`,
    );
  });

  it("runs its scripts on Node 24", () => {
    assert.ok(Number(process.versions.node.split(".")[0]) >= 24, process.version);
  });
});
