// Config.unknownKeys: the keys scan would drop without a word (typos), and Value.origin, which
// lets code name the file of a value it rejects itself.
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { ConfigError, createConfig, envSource, fileSource } from "kratos-ts/config";
import type { Source } from "kratos-ts/config";
import { BootstrapSchema, ServerSchema } from "../../internal/conf/conf_pb.js";
import { KindsSchema } from "../fixtures/json/gen/kinds/v1/kinds_pb.js";
import { tempDir } from "../helpers/repo.js";

function fixed(origin: string, value: Record<string, unknown>): Source {
  return { name: origin, load: () => Promise.resolve([{ origin, value }]) };
}

async function loaded(...sources: Source[]) {
  const config = createConfig({ sources, env: {}, watch: false });
  await config.load();
  return config;
}

const dir = tempDir("kratos-ts-unknown-keys-");
after(() => {
  dir.remove();
});

describe("config unknown keys", () => {
  it("lists each key no field takes with the file or env that set it, and scan still works", async () => {
    mkdirSync(join(dir.path, "configs"));
    const file = join(dir.path, "configs", "config.yaml");
    writeFileSync(
      file,
      [
        "server:",
        "  http: { addr: 127.0.0.1:0, timout: 1s }",
        "  grpcc: { addr: 127.0.0.1:0, timeout: 1s }",
        "log: { level: info }",
        "lgo: { level: debug }",
        "data: { database: { driver: sqlite, source: ':memory:', pool: { size: 4 } } }",
        // JSON names are field names too, as in scan.
        "telemetry: { otlpEndpoint: http://collector:4318/v1/traces }",
        "",
      ].join("\n"),
    );
    const config = await loaded(
      fileSource(join(dir.path, "configs")),
      envSource({
        prefix: "HW_",
        env: {
          HW_SERVER__GRPC__TIMOUT: "2s",
          HW_LOG__LEVEL: "warn",
          HW_REGISTRY__ETCD__DIAL_TIMEOUT: "3s",
        },
      }),
    );
    assert.deepEqual(config.unknownKeys(BootstrapSchema), [
      { key: "server.http.timout", file },
      { key: "server.grpcc", file },
      { key: "server.grpc.timout", file: "env" },
      { key: "lgo", file },
      { key: "data.database.pool", file },
    ]);
    // A subtree is checked against its own message, keys still from the root.
    assert.deepEqual(config.unknownKeys(ServerSchema, "server"), [
      { key: "server.http.timout", file },
      { key: "server.grpcc", file },
      { key: "server.grpc.timout", file: "env" },
    ]);
    const bc = config.scan(BootstrapSchema);
    assert.equal(bc.server?.http?.addr, "127.0.0.1:0");
    assert.equal(bc.telemetry?.otlpEndpoint, "http://collector:4318/v1/traces");
  });

  it("reports nothing for a config that fits", async () => {
    const config = await loaded(
      fixed("config.yaml", {
        server: { http: { addr: ":8000", timeout: "1s" }, grpc: null },
        registry: { etcd: { endpoints: ["http://a:2379"], ttl: "15s" } },
        config_source: { etcd: { endpoints: "http://a:2379,http://b:2379", key: "/k" } },
      }),
    );
    assert.deepEqual(config.unknownKeys(BootstrapSchema), []);
  });

  it("checks messages in lists and map values, never map keys nor well-known types' data", async () => {
    const config = await loaded(
      fixed("kinds.yaml", {
        child: { s: "x", child: { nope: 1 } },
        leaf: { a: "x", zz: 1 },
        inner: { children: [{ name: "a" }, { name: "b", nmae: "c" }] },
        list_leaf: [{ a: "x" }, { b: "y" }],
        map_ss: { anything: "goes", "dotted.key": "too" },
        map_leaf: { "1": { a: "x" }, "2": { q: 1 } },
        map_value: { k: { any: { shape: [1] } } },
        map_wrapped: { k: "v" },
        st: { free: { form: true } },
        val: { free: 1 },
        any: { "@type": "type.googleapis.com/x.Y", field: 1 },
        dur: "1s",
        w_i32: 5,
        renamed: "json name",
        one_leaf: { a: "x", extra: 1 },
      }),
    );
    assert.deepEqual(
      config.unknownKeys(KindsSchema).map((u) => u.key),
      [
        "child.child.nope",
        "leaf.zz",
        "inner.children.1.nmae",
        "list_leaf.1.b",
        "map_leaf.2.q",
        "one_leaf.extra",
      ],
    );
  });

  it("leaves alone keys that placeholders read", async () => {
    const config = await loaded(
      fixed("config.yaml", {
        ports: { http: 8000, grpc: 9000 },
        unused: { x: 1 },
        server: {
          http: { addr: "0.0.0.0:${ports.http}" },
          grpc: { addr: "0.0.0.0:${ports.grpc}" },
        },
      }),
    );
    assert.deepEqual(config.unknownKeys(BootstrapSchema), [{ key: "unused", file: "config.yaml" }]);
    assert.equal(config.scan(BootstrapSchema).server?.http?.addr, "0.0.0.0:8000");
  });
});

describe("config value origin", () => {
  it("names the file or source of a value, the nearest parent's for a key not set", async () => {
    const config = await loaded(
      fixed("a.yaml", { log: { level: "info" }, server: { http: { addr: ":1" } } }),
      fixed("env", { log: { level: "loud" } }),
    );
    const level = config.value("log.level");
    assert.equal(level.origin, "env");
    assert.equal(config.value("server.http.addr").origin, "a.yaml");
    assert.equal(config.value("server.http.timeout").origin, "a.yaml");
    assert.equal(config.value("nothing.here").origin, undefined);
    // What it is for: a check of the caller's own that names the file and key like the kit's.
    const err = new ConfigError(`unknown level "${level.string()}"`, {
      file: level.origin,
      key: level.path,
    });
    assert.equal(err.message, 'env: log.level: unknown level "loud"');
  });
});
