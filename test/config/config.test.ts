import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { FieldDescriptorProto_Label, FieldDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { ConfigError, createConfig, envSource, fileSource, isConfigFile } from "kratos-ts/config";
import type { Source } from "kratos-ts/config";
import { BootstrapSchema, ServerSchema } from "../../internal/conf/conf_pb.js";
import { tempDir } from "../helpers/repo.js";
import { warnings } from "../helpers/warnings.js";

/** A source with fixed data, for merge and placeholder rules without files. */
function fixed(origin: string, value: Record<string, unknown>): Source {
  return { name: origin, load: () => Promise.resolve([{ origin, value }]) };
}

async function loaded(...sources: Source[]) {
  const config = createConfig({ sources, env: { HOME_DIR: "/home/k" }, watch: false });
  await config.load();
  return config;
}

const dirs: { remove: () => void }[] = [];
function dir(files: Record<string, string>): string {
  const d = tempDir("kratos-ts-config-");
  dirs.push(d);
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(d.path, name, ".."), { recursive: true });
    writeFileSync(join(d.path, name), text);
  }
  return d.path;
}
after(() => {
  for (const d of dirs) d.remove();
});

describe("config merge", () => {
  it("later sources win, maps deep-merge, lists replace", async () => {
    const config = await loaded(
      fixed("a.yaml", { server: { http: { addr: ":8000", timeout: "1s" } }, list: [1, 2, 3] }),
      fixed("b.yaml", { server: { http: { addr: ":9000" }, grpc: { addr: ":9001" } }, list: [4] }),
    );
    assert.deepEqual(config.value("server").raw(), {
      http: { addr: ":9000", timeout: "1s" },
      grpc: { addr: ":9001" },
    });
    assert.deepEqual(config.value("list").raw(), [4]);
    assert.equal(config.value("list.0").number(), 4);
    assert.equal(config.value("list.1").exists, false);
  });

  it("reads a directory in name order, .yml and .json included, hidden and temp files ignored", async () => {
    const path = dir({
      "a.yaml": "name: a\nkeep: from-a\n",
      "b.yml": "name: b\n",
      "c.json": '{"json": true}',
      ".hidden.yaml": "name: hidden\n",
      ".config.yaml.swp": "garbage: [",
      "config.yaml~": "garbage: [",
      "4913": "garbage",
      "notes.txt": "garbage: [",
    });
    const config = await loaded(fileSource(path));
    assert.equal(config.value("name").string(), "b");
    assert.equal(config.value("keep").string(), "from-a");
    assert.equal(config.value("json").bool(), true);
    for (const name of [".a.yaml", "x.swp", "x~", ".#x.yaml", "4913", "x.yaml.tmp"]) {
      assert.equal(isConfigFile(name), false, name);
    }
  });

  it("maps prefixed env variables to nested keys", async () => {
    const env = {
      HW_SERVER__HTTP__ADDR: "0.0.0.0:8080",
      HW_REGISTRY__ETCD__DIAL_TIMEOUT: "3s",
      HW_LOG__LEVEL: "debug",
      OTHER_THING: "ignored",
      HW_: "ignored",
    };
    const config = await loaded(
      fixed("config.yaml", { server: { http: { addr: ":8000", timeout: "1s" } } }),
      envSource({ prefix: "HW_", env }),
    );
    assert.equal(config.value("server.http.addr").string(), "0.0.0.0:8080");
    assert.equal(config.value("server.http.timeout").string(), "1s", "siblings stay");
    assert.equal(config.value("registry.etcd.dial_timeout").duration(), 3000);
    assert.equal(config.value("log.level").string(), "debug");
    assert.equal(config.value("other_thing").exists, false);
  });
});

describe("config placeholders", () => {
  const cases: [string, Record<string, unknown>, string, unknown][] = [
    ["a config key", { port: 8000, addr: "0.0.0.0:${port}" }, "addr", "0.0.0.0:8000"],
    ["an env variable", { dir: "${HOME_DIR}/data" }, "dir", "/home/k/data"],
    ["a default", { level: "${LOG_LEVEL:info}" }, "level", "info"],
    ["an empty default", { level: "${LOG_LEVEL:}" }, "level", ""],
    ["a whole-string reference, keeping the type", { a: 5, b: "${a}" }, "b", 5],
    ["a nested key", { s: { h: { port: 1 } }, p: "${s.h.port}" }, "p", 1],
    ["a chain", { a: "x", b: "${a}y", c: "${b}z" }, "c", "xyz"],
  ];
  for (const [name, value, path, expected] of cases) {
    it(`resolves ${name}`, async () => {
      const config = await loaded(fixed("config.yaml", value));
      assert.deepEqual(config.value(path).raw(), expected);
    });
  }

  it("names the file and key of a placeholder that is not set, and of a loop", async () => {
    await assert.rejects(
      loaded(fixed("config.yaml", { db: { source: "${DB_PATH}" } })),
      (err) =>
        err instanceof ConfigError &&
        err.message ===
          "config.yaml: db.source: placeholder ${DB_PATH} is not set (no such key or environment variable)",
    );
    await assert.rejects(loaded(fixed("c.yaml", { a: "${b}", b: "${a}" })), /refers to itself/);
  });
});

describe("config values", () => {
  it("converts strings from env and names the key and file on a mismatch", async () => {
    const config = await loaded(
      fixed("config.yaml", { port: "8000", on: "true", t: "1m30s", n: 250, name: "x", list: [1] }),
    );
    assert.equal(config.value("port").number(), 8000);
    assert.equal(config.value("on").bool(), true);
    assert.equal(config.value("t").duration(), 90_000);
    assert.equal(config.value("n").duration(), 250, "numbers are milliseconds");
    assert.equal(config.value("n").string(), "250");
    assert.deepEqual(config.value("list").list(), [1]);
    assert.throws(() => config.value("name").number(), {
      message: 'config.yaml: name: expected a number, got "x"',
    });
    assert.throws(
      () => config.value("name").duration(),
      /config\.yaml: name: unknown duration "x"/,
    );
    assert.throws(() => config.value("missing").string(), { message: "missing: not set" });
    assert.throws(() => config.value("list").map(), /expected a map, got \[1\]/);
  });
});

describe("config scan", () => {
  it("scans YAML and env values into a message through proto JSON", async () => {
    const path = dir({
      "config.yaml": [
        "server:",
        "  http: { addr: 0.0.0.0:8000, timeout: 1s }",
        "  grpc: { addr: 0.0.0.0:9000, timeout: 1m30s }",
        "data: { database: { driver: sqlite, source: ./data/x.db } }",
        "registry: { etcd: { endpoints: [http://a:2379, http://b:2379] } }",
        "unknown_key: ignored",
      ].join("\n"),
    });
    const config = await loaded(
      fileSource(path),
      envSource({
        prefix: "HW_",
        env: { HW_SERVER__HTTP__TIMEOUT: "500ms", HW_REGISTRY__ETCD__TTL: "15s" },
      }),
    );
    const bc = config.scan(BootstrapSchema);
    assert.equal(bc.server?.http?.addr, "0.0.0.0:8000");
    assert.deepEqual(
      [bc.server.http.timeout?.seconds, bc.server.http.timeout?.nanos],
      [0n, 500_000_000],
    );
    assert.equal(bc.server.grpc?.timeout?.seconds, 90n);
    assert.equal(bc.data?.database?.source, "./data/x.db");
    assert.deepEqual(bc.registry?.etcd?.endpoints, ["http://a:2379", "http://b:2379"]);
    assert.equal(bc.registry.etcd.ttl?.seconds, 15n);
    const server = config.scan(ServerSchema, "server");
    assert.equal(server.grpc?.addr, "0.0.0.0:9000");
  });

  it("converts strings to integers, booleans, enums and lists by field type", async () => {
    const config = await loaded(
      fixed("env", {
        name: 42,
        number: "7",
        label: "LABEL_REPEATED",
        proto3_optional: "true",
      }),
    );
    const field = config.scan(FieldDescriptorProtoSchema);
    assert.deepEqual(
      field,
      create(FieldDescriptorProtoSchema, {
        name: "42",
        number: 7,
        label: FieldDescriptorProto_Label.REPEATED,
        proto3Optional: true,
      }),
    );
  });

  const bad: [string, Record<string, unknown>, string][] = [
    [
      "a list for a string",
      { server: { http: { addr: [1, 2] } } },
      "config.yaml: server.http.addr: expected a string, got [1,2]",
    ],
    [
      "an unknown duration",
      { server: { http: { timeout: "1x" } } },
      'config.yaml: server.http.timeout: unknown duration "1x" (use a number with a unit: 500ms, 1s, 1m30s, 2h)',
    ],
    [
      "a bare number for a duration",
      { server: { http: { timeout: 5 } } },
      "config.yaml: server.http.timeout: unknown duration 5 (use a number with a unit: 500ms, 1s, 1m30s, 2h)",
    ],
    ["a scalar for a message", { server: "yes" }, 'config.yaml: server: expected a map, got "yes"'],
    [
      "a map for a list",
      { registry: { etcd: { endpoints: { a: 1 } } } },
      'config.yaml: registry.etcd.endpoints: expected a list, got {"a":1}',
    ],
  ];
  for (const [name, value, message] of bad) {
    it(`names the file and key for ${name}`, async () => {
      const config = await loaded(fixed("config.yaml", value));
      assert.throws(
        () => config.scan(BootstrapSchema),
        (err) => err instanceof ConfigError && err.message === message,
      );
    });
  }

  it("names the key of an integer out of range or not an integer", async () => {
    const config = await loaded(fixed("env", { number: "abc", options: { ctype: "NOPE" } }));
    assert.throws(() => config.scan(FieldDescriptorProtoSchema), {
      message: 'env: number: expected an integer, got "abc"',
    });
    const big = await loaded(fixed("env", { number: 3_000_000_000 }));
    assert.throws(() => big.scan(FieldDescriptorProtoSchema), /number: 3000000000 is out of range/);
  });
});

describe("config files, bad input", () => {
  it("names a missing file or directory, invalid YAML with its line, invalid JSON", async () => {
    await assert.rejects(loaded(fileSource("/nonexistent/configs")), {
      message: "/nonexistent/configs: no such file or directory",
    });
    const path = dir({ "config.yaml": "server:\n  http:\n    addr: [1,\n" });
    await assert.rejects(loaded(fileSource(path)), (err) => {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.file, join(path, "config.yaml"));
      assert.match(err.message, /config\.yaml: invalid YAML at line \d+, column \d+: /);
      assert.ok(!err.message.includes("\n"), "one line");
      return true;
    });
    const json = dir({ "config.json": '{"a": 1,\n "b": }' });
    await assert.rejects(loaded(fileSource(json)), /config\.json: invalid JSON/);
    const list = dir({ "config.yaml": "- a\n- b\n" });
    await assert.rejects(loaded(fileSource(list)), /config\.yaml: the top level must be a map/);
    const empty = dir({ "notes.txt": "x" });
    await assert.rejects(loaded(fileSource(empty)), /no \.yaml, \.yml or \.json file/);
  });
});

describe("config watch", () => {
  it("reloads on change, keeps the last good config on a bad one, and drops removed keys", async () => {
    const path = dir({ "config.yaml": "log:\n  level: info\nextra: 1\n" });
    const warn = warnings();
    const config = createConfig({ sources: [fileSource(path)], debounce: 10, logger: warn.logger });
    await config.load();
    const levels: string[] = [];
    let changed!: () => void;
    const observe = () => new Promise<void>((resolve) => (changed = resolve));
    config.watch("log.level", (v) => {
      levels.push(v.exists ? v.string() : "<removed>");
      changed();
    });
    const extra: boolean[] = [];
    config.watch("extra", (v) => extra.push(v.exists));

    let next = observe();
    writeFileSync(join(path, "config.yaml"), "log:\n  level: debug\nextra: 1\n");
    await next;
    assert.deepEqual(levels, ["debug"]);
    assert.deepEqual(extra, [], "an unchanged key is not reported");

    const failed = warn.next();
    writeFileSync(join(path, "config.yaml"), "log:\n  level: [\n");
    await failed;
    assert.equal(config.value("log.level").string(), "debug", "the last good config stays");
    assert.match(warn.seen.join(), /invalid YAML/);

    next = observe();
    writeFileSync(join(path, "config.yaml"), "log:\n  level: warn\n");
    await next;
    assert.deepEqual(levels, ["debug", "warn"]);
    assert.deepEqual(extra, [false], "a removed key disappears");
    assert.equal(config.value("extra").exists, false);
    await config.close();
  });

  it("a reload the validate hook rejects keeps the last good config", async () => {
    const path = dir({ "config.yaml": "port: 1\n" });
    const warn = warnings();
    const config = createConfig({
      sources: [fileSource(path)],
      debounce: 10,
      logger: warn.logger,
      validate: (c) => {
        if (c.value("port").number() > 100) throw new Error("port: must be <= 100");
      },
    });
    await config.load();
    const failed = warn.next();
    writeFileSync(join(path, "config.yaml"), "port: 1000\n");
    await failed;
    assert.equal(config.value("port").number(), 1);
    assert.match(warn.seen.join(), /must be <= 100/);
    await config.close();
  });

  it("an editor's temp file does not trigger a reload of broken data", async () => {
    const path = dir({ "config.yaml": "a: 1\n" });
    const config = createConfig({ sources: [fileSource(path)], debounce: 10 });
    await config.load();
    let changed!: () => void;
    const next = new Promise<void>((resolve) => (changed = resolve));
    config.watch("a", () => {
      changed();
    });
    writeFileSync(join(path, ".config.yaml.swp"), "a: [broken");
    writeFileSync(join(path, "config.yaml~"), "a: [broken");
    writeFileSync(join(path, "config.yaml"), "a: 2\n");
    await next;
    assert.equal(config.value("a").number(), 2);
    await config.close();
  });
});
