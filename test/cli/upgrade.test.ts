// `kratos-ts upgrade` against a registry on a loopback socket (npm_config_registry): a registry
// without kratos-ts keeps the project's kit and says so in one line; a local kit is kept unless
// --kit names another; a registry that has kratos-ts gets it upgraded.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { repoRoot, tempDir } from "../helpers/repo.js";
import type { RunResult } from "../helpers/repo.js";

const cli = join(repoRoot, "dist", "cmd", "kratos-ts", "main.js");

/** A registry that knows the packages of `known` (name -> latest version) and nothing else. */
function registry(known: Record<string, string>): Promise<Server> {
  const server = createServer((req, res) => {
    const name = decodeURIComponent((req.url ?? "/").slice(1).split("?")[0] ?? "");
    const latest = known[name];
    res.setHeader("content-type", "application/json");
    if (latest === undefined) {
      res.writeHead(404).end('{"error":"Not found"}');
      return;
    }
    const version = { name, version: latest, dist: { tarball: `http://x/${name}.tgz` } };
    res.end(JSON.stringify({ name, "dist-tags": { latest }, versions: { [latest]: version } }));
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      resolve(server);
    });
  });
}

/** Runs the CLI asynchronously (the registry lives in this process) against `server`. */
function upgrade(cwd: string, server: Server, ...args: string[]): Promise<RunResult> {
  const { port } = server.address() as AddressInfo;
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [cli, "upgrade", "--dry-run", ...args],
      {
        cwd,
        encoding: "utf8",
        env: {
          ...process.env,
          npm_config_registry: `http://127.0.0.1:${String(port)}/`,
          npm_config_cache: join(cwd, ".npm-cache"),
          npm_config_offline: "false",
        },
      },
      (err, stdout, stderr) => {
        resolve({ status: err === null ? 0 : 1, stdout, stderr });
      },
    );
  });
}

/** A project folder as `kratos-ts new` leaves it, as far as upgrade reads it. */
function project(dir: string, name: string, kit: string): string {
  const root = join(dir, name);
  mkdirSync(root);
  writeFileSync(join(root, "buf.yaml"), "version: v2\n");
  writeFileSync(
    join(root, "package.json"),
    JSON.stringify({ name, private: true, dependencies: { "kratos-ts": kit } }),
  );
  return root;
}

describe("kratos-ts upgrade", () => {
  const dir = tempDir("kratos-ts-upgrade-");
  const servers: Server[] = [];
  let empty: Server;
  let full: Server;
  before(async () => {
    empty = await registry({});
    full = await registry({ "kratos-ts": "0.2.0" });
    servers.push(empty, full);
  });
  after(() => {
    for (const server of servers) server.close();
    dir.remove();
  });

  it("keeps the kit, in one line, when the registry has no kratos-ts", async () => {
    const root = project(dir.path, "ranged", "^0.1.0");
    const r = await upgrade(root, empty);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(
      r.stdout,
      "the npm registry has no package kratos-ts; kratos-ts stays ^0.1.0\n" +
        `would run in ${root}: npm install @bufbuild/protobuf@latest @bufbuild/protoc-gen-es@latest\n`,
    );
  });

  it("upgrades kratos-ts from a registry that has it", async () => {
    const root = project(dir.path, "ranged2", "^0.1.0");
    const r = await upgrade(root, full);
    assert.equal(r.status, 0, r.stderr);
    assert.match(
      r.stdout,
      /: npm install kratos-ts@latest @bufbuild\/protobuf@latest @bufbuild\/protoc-gen-es@latest\n$/,
    );
  });

  it("keeps a local kit even when the registry has one, unless --kit names another", async () => {
    const root = project(dir.path, "local", "file:vendor/kratos-ts-0.1.0.tgz");
    const kept = await upgrade(root, full);
    assert.match(
      kept.stdout,
      /^kratos-ts stays file:vendor\/kratos-ts-0\.1\.0\.tgz \(a local kit\)/,
    );
    assert.doesNotMatch(kept.stdout, /kratos-ts@/);
    const moved = await upgrade(root, full, "--kit", "0.2.0");
    assert.match(moved.stdout, /npm install kratos-ts@0\.2\.0 @bufbuild\/protobuf@latest /);
  });
});
