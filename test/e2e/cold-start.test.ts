// What the layout loads when nothing optional is configured: the etcd client (etcd3 with
// grpc-js and protobufjs), the NATS client and ioredis are loaded only when the config names
// etcd, NATS or Redis, and protovalidate only when a call has a message to check, so a cold
// start does not pay for them (issue 25: cold start). Both for the bundle `npm start` runs,
// whose lazy parts are chunks of their own (the report reads the packages of each chunk loaded
// from its source map), and for the compiled tree `kratos-ts run` runs.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";
import { repoRoot, tempDir } from "../helpers/repo.js";
import { serviceMain, startService, writeLayoutConfig } from "../helpers/service.js";

const preload = pathToFileURL(
  fileURLToPath(new URL("../fixtures/app/loaded-packages.js", import.meta.url)),
).href;
const optional = [
  "etcd3",
  "@grpc/grpc-js",
  "protobufjs",
  "@nats-io/nats-core",
  "ioredis",
  // protovalidate's engine (generated code imports only its descriptors, from the same package).
  "@bufbuild/cel",
];

/** The service as npm start runs it (the bundle), and its compiled tree. */
const entries = [
  { name: "the bundle", main: serviceMain },
  { name: "the compiled tree", main: join(repoRoot, "dist", "cmd", "server", "main.js") },
];

/**
 * Runs the layout's `main` in a fresh folder with the package report preloaded, lets `use` call
 * it, stops it, and returns the packages it loaded.
 */
async function packagesLoaded(main: string, use: (http: URL) => Promise<void>): Promise<string[]> {
  const dir = tempDir("kratos-ts-cold-start-");
  try {
    writeLayoutConfig(dir.path);
    const report = join(dir.path, "packages.txt");
    const service = await startService(
      ["-conf", "./configs"],
      dir.path,
      { NODE_OPTIONS: `--import ${preload}`, LOADED_PACKAGES_FILE: report },
      { main, name: "helloworld" },
    );
    await use(service.http);
    service.child.kill("SIGTERM");
    assert.equal(await service.exited, 0);
    return readFileSync(report, "utf8").split("\n");
  } finally {
    dir.remove();
  }
}

describe("the layout's cold start", { timeout: 60_000 }, () => {
  for (const { name, main } of entries) {
    it(`loads no etcd, NATS or Redis client when the config names none (${name})`, async () => {
      const loaded = await packagesLoaded(main, () => Promise.resolve());
      assert.ok(loaded.includes("pino"), `the report works: ${loaded.join(", ")}`);
      assert.deepEqual(
        optional.filter((p) => loaded.includes(p)),
        [],
      );
    });

    it(`loads protovalidate for the first call with a message to check, which it checks (${name})`, async () => {
      const loaded = await packagesLoaded(main, async (http) => {
        const tooLong = await fetch(new URL(`/helloworld/${"x".repeat(65)}`, http));
        assert.equal(tooLong.status, 400);
        assert.equal(((await tooLong.json()) as { reason: string }).reason, "VALIDATOR");
        const fine = await fetch(new URL("/helloworld/kratos", http));
        assert.equal(fine.status, 200);
      });
      assert.ok(loaded.includes("@bufbuild/cel"));
    });
  }

  it("the report sees them when they are imported (control)", () => {
    const dir = tempDir("kratos-ts-cold-start-control-");
    try {
      const report = join(dir.path, "packages.txt");
      const run = spawnSync(
        process.execPath,
        [
          "--import",
          preload,
          "--input-type=module",
          "-e",
          'await import("etcd3"); await import("@nats-io/transport-node"); await import("@bufbuild/protovalidate");',
        ],
        { cwd: repoRoot, env: { ...process.env, LOADED_PACKAGES_FILE: report } },
      );
      assert.equal(run.status, 0, String(run.stderr));
      const loaded = readFileSync(report, "utf8").split("\n");
      assert.ok(loaded.includes("etcd3"));
      assert.ok(loaded.includes("@nats-io/nats-core"));
      assert.ok(loaded.includes("@bufbuild/cel"), "ESM packages too");
    } finally {
      dir.remove();
    }
  });
});
