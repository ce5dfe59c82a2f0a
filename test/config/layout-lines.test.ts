// The layout service (dist/cmd/server/main.js) on bad config, run as `npm start` runs it: every
// problem is one line naming the file (or env) and the key, or the server and address; a key the
// service does not know is a warning and the service starts anyway.
import assert from "node:assert/strict";
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import type { AddressInfo, Server as NetServer } from "node:net";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { tempDir } from "../helpers/repo.js";
import { spawnService, startService } from "../helpers/service.js";
import type { LogLine } from "../helpers/service.js";

const levels = "(trace, debug, info, warn, error, fatal, silent)";

function yaml(options: { http?: string; grpc?: string; level?: string; extra?: string[] } = {}) {
  return [
    "server:",
    `  http: { addr: "${options.http ?? "127.0.0.1:0"}" }`,
    `  grpc: { addr: "${options.grpc ?? "127.0.0.1:0"}" }`,
    "data:",
    "  database: { driver: sqlite, source: ':memory:' }",
    "log:",
    `  level: ${options.level ?? "info"}`,
    ...(options.extra ?? []),
    "",
  ].join("\n");
}

const dirs: { remove: () => void }[] = [];
after(() => {
  for (const d of dirs) d.remove();
});

/** A temp project dir with configs/config.yaml holding `text`. */
function project(text: string) {
  const dir = tempDir("kratos-ts-layout-lines-");
  dirs.push(dir);
  const confDir = join(dir.path, "configs");
  mkdirSync(confDir);
  const file = join(confDir, "config.yaml");
  writeFileSync(file, text);
  return { path: dir.path, confDir, file };
}

/** Runs the service expecting a failure to start: exit code 1 and exactly `line` on stderr. */
async function failsWith(text: string, line: (file: string) => string, env = {}): Promise<void> {
  const dir = project(text);
  const service = spawnService(["-conf", dir.confDir], dir.path, env);
  const code = await service.exited;
  assert.equal(code, 1, `exit code; stderr: ${service.stderr()}`);
  assert.equal(service.stderr(), `helloworld: ${line(dir.file)}\n`);
}

async function listening(): Promise<{ blocker: NetServer; addr: string }> {
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
  return { blocker, addr: `127.0.0.1:${(blocker.address() as AddressInfo).port}` };
}

const isWarning = (l: LogLine) => l["level"] === "warn";

// A timeout only so that a line that never comes fails the test instead of hanging it.
describe("layout service, lines for bad config", { timeout: 60_000 }, () => {
  it("names the file and key of an unknown log level, from a file or from env", async () => {
    await failsWith(
      yaml({ level: "loud" }),
      (file) => `${file}: log.level: unknown level "loud" ${levels}`,
    );
    await failsWith(yaml(), () => `env: log.level: unknown level "loud" ${levels}`, {
      HELLOWORLD_LOG__LEVEL: "loud",
    });
  });

  it("names the file of a key the layers reject (data.database.driver)", async () => {
    await failsWith(
      yaml().replace("driver: sqlite", "driver: pg"),
      (file) => `${file}: data.database.driver: unsupported driver "pg" (supported: sqlite)`,
    );
  });

  it("names the gRPC or HTTP server whose port is in use, and the address", async () => {
    const { blocker, addr } = await listening();
    try {
      await failsWith(
        yaml({ grpc: addr }),
        () => `grpc server: listen ${addr}: address already in use`,
      );
      await failsWith(
        yaml({ http: addr }),
        () => `http server: listen ${addr}: address already in use`,
      );
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  it("warns once per unknown key, from the files and env, and starts anyway", async () => {
    const dir = project(
      yaml({ extra: ["lgo: { level: debug }"] }).replace(
        'http: { addr: "127.0.0.1:0" }',
        'http: { addr: "127.0.0.1:0", timout: 1s }',
      ),
    );
    const service = await startService(["-conf", dir.confDir], dir.path, {
      HELLOWORLD_SERVER__GRPC__TIMOUT: "2s",
      // Known keys from env are no warning.
      HELLOWORLD_SERVER__GRPC__TIMEOUT: "1s",
    });
    try {
      const warnings = service.lines.filter(isWarning).map((l) => [l["file"], l["key"], l["msg"]]);
      assert.deepEqual(warnings, [
        [dir.file, "server.http.timout", `${dir.file}: unknown key server.http.timout (ignored)`],
        ["env", "server.grpc.timout", "env: unknown key server.grpc.timout (ignored)"],
        [dir.file, "lgo", `${dir.file}: unknown key lgo (ignored)`],
      ]);
      assert.equal(service.stderr(), "");
    } finally {
      service.child.kill("SIGTERM");
      assert.equal(await service.exited, 0);
    }
  });

  it("keeps the log level and warns naming the file and key when log.level turns unknown live", async () => {
    const dir = project(yaml());
    const service = await startService(["-conf", dir.confDir], dir.path);
    // Written aside and renamed over the original, as editors do (no half-written file).
    const edit = (text: string) => {
      writeFileSync(`${dir.file}.tmp`, text);
      renameSync(`${dir.file}.tmp`, dir.file);
    };
    try {
      edit(yaml({ level: "loud" }));
      const warning = await service.waitForLine(isWarning);
      assert.equal(warning["file"], dir.file);
      assert.equal(warning["key"], "log.level");
      assert.equal(
        warning["msg"],
        `${dir.file}: log.level: unknown level "loud" ${levels}; keeping info`,
      );
      // Still running, and still following the file: a good level after the bad one applies.
      edit(yaml({ level: "debug" }));
      const changed = await service.waitForLine((l) => l["msg"] === "config changed");
      assert.equal(changed["value"], "debug");
      assert.equal(service.lines.filter(isWarning).length, 1);
    } finally {
      service.child.kill("SIGTERM");
      assert.equal(await service.exited, 0);
    }
  });
});
