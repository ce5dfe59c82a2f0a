// The etcd config source against a real etcd: keys and prefixes, YAML and JSON, the merge with
// files and env, hot reload, bad values, an unreachable etcd and an etcd restart.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Etcd3 } from "etcd3";
import { createConfig } from "../../src/config/config.js";
import { envSource } from "../../src/config/env-source.js";
import { etcdSource } from "../../src/config/etcd-source.js";
import { fileSource } from "../../src/config/file-source.js";
import { ConfigError } from "../../src/config/source.js";
import { etcdSkip, freePort, startEtcd } from "../helpers/etcd.js";
import type { EtcdServer } from "../helpers/etcd.js";
import { tempDir } from "../helpers/repo.js";
import { warnings } from "../helpers/warnings.js";
import { startService, writeLayoutConfig } from "../helpers/service.js";
import type { ServiceProcess } from "../helpers/service.js";

/** Resolves with the next value `path` takes in `config`. */
function nextValue(config: ReturnType<typeof createConfig>, path: string): Promise<string> {
  return new Promise((resolve) => {
    const stop = config.watch(path, (value) => {
      stop();
      resolve(value.exists ? value.string() : "<removed>");
    });
  });
}

describe("etcd config source", { skip: etcdSkip(), timeout: 60_000 }, () => {
  let etcd: EtcdServer;
  let raw: Etcd3;
  before(async () => {
    etcd = await startEtcd();
    raw = new Etcd3({ hosts: etcd.endpoint });
  });
  after(async () => {
    raw.close();
    await etcd.stop();
  });
  const source = (key: string, more: { prefix?: boolean } = {}) =>
    etcdSource({ endpoints: [etcd.endpoint], key, ...more });

  it("reads one key as YAML, or as JSON by its extension; a missing key is no data", async () => {
    await raw.put("/c1/app.yaml").value("server:\n  http:\n    addr: 0.0.0.0:8001\n");
    await raw.put("/c1/app.json").value('{"log": {"level": "debug"}}');
    assert.deepEqual(await source("/c1/app.yaml").load(), [
      { origin: "etcd:/c1/app.yaml", value: { server: { http: { addr: "0.0.0.0:8001" } } } },
    ]);
    assert.deepEqual(await source("/c1/app.json").load(), [
      { origin: "etcd:/c1/app.json", value: { log: { level: "debug" } } },
    ]);
    assert.deepEqual(await source("/c1/none").load(), []);
  });

  it("merges a prefix in key order, between files and env", async () => {
    await raw.put("/c2/a").value("log: { level: debug }\ndata: { source: a }\n");
    await raw.put("/c2/b").value("data: { source: b }\n");
    const dir = tempDir("kratos-ts-etcd-conf-");
    try {
      writeFileSync(join(dir.path, "config.yaml"), "log: { level: info }\nname: file\n");
      const config = createConfig({
        sources: [
          fileSource(dir.path),
          source("/c2/", { prefix: true }),
          envSource({ prefix: "ETCDTEST_", env: { ETCDTEST_NAME: "env" } }),
        ],
        watch: false,
      });
      await config.load();
      assert.equal(config.value("log.level").string(), "debug", "etcd over the file");
      assert.equal(config.value("data.source").string(), "b", "the later key wins");
      assert.equal(config.value("name").string(), "env", "env over etcd");
      await config.close();
    } finally {
      dir.remove();
    }
  });

  it("reloads on put and delete, and keeps the last good config on a bad value", async () => {
    await raw.put("/c3/app.yaml").value("log: { level: info }\n");
    const warn = warnings();
    const config = createConfig({
      sources: [source("/c3/app.yaml")],
      debounce: 10,
      logger: warn.logger,
    });
    await config.load();
    try {
      let next = nextValue(config, "log.level");
      await raw.put("/c3/app.yaml").value("log: { level: debug }\n");
      assert.equal(await next, "debug");

      for (const bad of ["log: { level: [\n", "- a list\n- not a map\n"]) {
        const failed = warn.next();
        await raw.put("/c3/app.yaml").value(bad);
        await failed;
        assert.equal(config.value("log.level").string(), "debug", "the last good config stays");
      }
      assert.match(warn.seen.join(), /etcd:\/c3\/app\.yaml/);

      next = nextValue(config, "log.level");
      await raw.delete().key("/c3/app.yaml");
      assert.equal(await next, "<removed>", "a deleted key's values disappear");
    } finally {
      await config.close();
    }
  });

  it("fails a first load within callTimeout, naming the key, when etcd is unreachable", async () => {
    const port = await freePort();
    const config = createConfig({
      sources: [
        etcdSource({ endpoints: [`http://127.0.0.1:${port}`], key: "/app", callTimeout: 300 }),
      ],
    });
    const started = Date.now();
    await assert.rejects(config.load(), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, /^etcd:\/app: cannot read from etcd \(http:\/\/127\.0\.0\.1:\d+\)/);
      assert.equal(err.message.split("\n").length, 1);
      return true;
    });
    assert.ok(Date.now() - started < 5_000);
    await config.close();
  });
});

describe("etcd config source across an etcd restart", { skip: etcdSkip(), timeout: 60_000 }, () => {
  it("picks up a change made after etcd came back", async () => {
    const etcd = await startEtcd();
    const raw = () => new Etcd3({ hosts: etcd.endpoint });
    const writer = raw();
    await writer.put("/c4/app.yaml").value("log: { level: info }\n");
    writer.close();
    const config = createConfig({
      sources: [
        etcdSource({ endpoints: [etcd.endpoint], key: "/c4/app.yaml", maxRetryDelay: 500 }),
      ],
      debounce: 10,
    });
    try {
      await config.load();
      await etcd.restart();
      const next = nextValue(config, "log.level");
      const again = raw();
      try {
        await again.put("/c4/app.yaml").value("log: { level: warn }\n");
      } finally {
        again.close();
      }
      assert.equal(await next, "warn");
    } finally {
      await config.close();
      await etcd.stop();
    }
  });
});

describe("the layout with config_source.etcd", { skip: etcdSkip(), timeout: 60_000 }, () => {
  it("takes etcd's values over the file's, reloads them live, and keeps them on a bad value", async () => {
    const etcd = await startEtcd();
    const writer = new Etcd3({ hosts: etcd.endpoint });
    const dir = tempDir("kratos-ts-layout-etcd-conf-");
    const key = "/configs/helloworld.yaml";
    const port = await freePort();
    let service: ServiceProcess | undefined;
    try {
      await writer.put(key).value(`server:\n  http: { addr: 127.0.0.1:${port} }\n`);
      writeLayoutConfig(dir.path, {
        extra: ["config_source:", `  etcd: { endpoints: [${etcd.endpoint}], key: ${key} }`],
      });
      const started = await startService(["-conf", "./configs"], dir.path);
      service = started;
      assert.equal(started.http.port, String(port), "server.http.addr from etcd");

      await writer
        .put(key)
        .value(`server:\n  http: { addr: 127.0.0.1:${port} }\nlog: { level: debug }\n`);
      await started.waitForLine((l) => l["msg"] === "config changed" && l["value"] === "debug");

      await writer.put(key).value("log: { level: [\n");
      const failed = await started.waitForLine((l) =>
        String(l["msg"]).startsWith("config reload failed"),
      );
      assert.match(String(failed["err"]), /etcd:\/configs\/helloworld\.yaml/);
      started.child.kill("SIGTERM");
      assert.equal(await started.exited, 0);
    } finally {
      if (service !== undefined && service.child.exitCode === null) service.child.kill("SIGKILL");
      writer.close();
      dir.remove();
      await etcd.stop();
    }
  });
});
