import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Etcd3 } from "etcd3";
import { createApp } from "../../src/app.js";
import { createContext } from "../../src/context.js";
import type { Logger } from "../../src/log/logger.js";
import { createEtcdRegistry } from "../../src/registry/etcd.js";
import type { EtcdRegistryOptions } from "../../src/registry/etcd.js";
import { createMemoryRegistry } from "../../src/registry/memory.js";
import type { ServiceInstance } from "../../src/registry/registry.js";
import { createHttpServer } from "../../src/transport/http/index.js";
import { etcdSkip, eventually, freePort, startEtcd } from "../helpers/etcd.js";
import type { EtcdServer } from "../helpers/etcd.js";
import { registryContract } from "./contract.js";
import { tempDir } from "../helpers/repo.js";
import { startService, writeLayoutConfig } from "../helpers/service.js";

const ctx = createContext();
const skip = etcdSkip();

/** A logger that remembers its lines, to count them. */
function recordingLogger(): Logger & { lines: { level: string; msg: string }[] } {
  const lines: { level: string; msg: string }[] = [];
  const at =
    (level: string) =>
    (fieldsOrMsg: object | string, msg?: string): void => {
      lines.push({ level, msg: typeof fieldsOrMsg === "string" ? fieldsOrMsg : (msg ?? "") });
    };
  const logger = {
    lines,
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
    child: () => logger,
  };
  return logger;
}

function instance(id: string, name = "helloworld"): ServiceInstance {
  return {
    id,
    name,
    version: "v1.0.0",
    metadata: { region: "eu" },
    endpoints: [`http://127.0.0.1:800${id}`, `grpc://127.0.0.1:900${id}`],
  };
}

registryContract("memory", () => {
  const registry = createMemoryRegistry();
  return { registry, close: () => Promise.resolve() };
});

// One top-level suite, so that a machine without etcd gets one line saying they were skipped.
describe("etcd", { skip }, () => {
  let shared: EtcdServer | undefined;
  function sharedEndpoint(): string {
    if (shared === undefined) throw new Error("etcd not started");
    return shared.endpoint;
  }

  registryContract(
    "etcd",
    () => {
      const registry = createEtcdRegistry({ endpoints: [sharedEndpoint()] });
      return { registry, close: () => registry.close() };
    },
    {
      setup: async () => {
        shared = await startEtcd();
      },
      teardown: async () => {
        await shared?.stop();
      },
    },
  );

  describe("etcd registry", () => {
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
    const open = (options: EtcdRegistryOptions = {}) =>
      createEtcdRegistry({ endpoints: [etcd.endpoint], maxRetryDelay: 500, ...options });

    it("stores exactly Go Kratos's key and JSON, and reads Go's nulls", async () => {
      const registry = open();
      try {
        await registry.register(ctx, instance("1"));
        const value = await raw.get("/microservices/helloworld/1").string();
        assert.equal(
          value,
          '{"id":"1","name":"helloworld","version":"v1.0.0","metadata":{"region":"eu"},' +
            '"endpoints":["http://127.0.0.1:8001","grpc://127.0.0.1:9001"]}',
        );
        // Go marshals a nil map and a nil slice as null.
        await raw
          .put("/microservices/helloworld/go-1")
          .value('{"id":"go-1","name":"helloworld","version":"","metadata":null,"endpoints":null}');
        assert.deepEqual(await registry.getService(ctx, "helloworld"), [
          instance("1"),
          { id: "go-1", name: "helloworld", version: "", metadata: {}, endpoints: [] },
        ]);
        await registry.deregister(ctx, instance("1"));
        assert.equal(await raw.get("/microservices/helloworld/1").string(), null);
        await raw.delete().key("/microservices/helloworld/go-1");
      } finally {
        await registry.close();
      }
    });

    it("honours a custom namespace", async () => {
      const registry = open({ namespace: "/ns/" });
      try {
        await registry.register(ctx, instance("1", "ns-svc"));
        assert.notEqual(await raw.get("/ns/ns-svc/1").string(), null);
        await registry.deregister(ctx, instance("1", "ns-svc"));
      } finally {
        await registry.close();
      }
    });

    it("skips a corrupt value with one warning, and the watcher keeps going", async () => {
      const logger = recordingLogger();
      const registry = open({ logger });
      try {
        await raw.put("/microservices/corrupt/bad").value("{not json");
        await registry.register(ctx, instance("1", "corrupt"));
        assert.deepEqual(await registry.getService(ctx, "corrupt"), [instance("1", "corrupt")]);
        const watcher = await registry.watch(ctx, "corrupt");
        assert.deepEqual(await watcher.next(), [instance("1", "corrupt")]);
        // A corrupt value arriving through the watch, then a good one: the watcher carries on.
        await raw.put("/microservices/corrupt/bad2").value('{"id":42}');
        await registry.register(ctx, instance("2", "corrupt"));
        assert.deepEqual(await watcher.next(), [
          instance("1", "corrupt"),
          instance("2", "corrupt"),
        ]);
        await registry.getService(ctx, "corrupt");
        const warnings = logger.lines.filter((l) => l.msg.includes("corrupt"));
        assert.equal(warnings.length, 2, "one warning per corrupt value, however often read");
        await watcher.stop();
        await raw.delete().prefix("/microservices/corrupt/");
      } finally {
        await registry.close();
      }
    });

    it("puts the key again after its lease is revoked behind its back", async () => {
      const logger = recordingLogger();
      const registry = open({ ttl: 2, logger });
      const observer = open();
      try {
        await registry.register(ctx, instance("1", "lease"));
        const watcher = await observer.watch(ctx, "lease");
        assert.deepEqual(await watcher.next(), [instance("1", "lease")]);
        // What etcd does when a lease expires (a long pause, a partition): the key goes.
        const { kvs } = await raw.getAll().prefix("/microservices/lease/").exec();
        const leaseId = kvs[0]?.lease;
        assert.ok(leaseId !== undefined && leaseId !== "0");
        await raw.leaseClient.leaseRevoke({ ID: leaseId });
        assert.deepEqual(await watcher.next(), [], "the watcher sees the instance leave");
        // The next keepalive (TTL/3) finds the lease gone and registers again.
        assert.deepEqual(await watcher.next(), [instance("1", "lease")], "and come back");
        const { kvs: after } = await raw.getAll().prefix("/microservices/lease/").exec();
        assert.notEqual(after[0]?.lease, leaseId, "with a new lease");
        assert.equal(logger.lines.filter((l) => l.msg.includes("lease lost")).length, 1);
        await watcher.stop();
        await registry.deregister(ctx, instance("1", "lease"));
      } finally {
        await registry.close();
        await observer.close();
      }
    });

    // The timeout only guards against a hang (keepalives that go on after close): when the key
    // goes is etcd's business, on a lease whose TTL the test checks instead of timing it.
    it("a watcher sees an instance leave when its lease expires", { timeout: 30_000 }, async () => {
      const registry = open({ ttl: 2 });
      const observer = open();
      try {
        await registry.register(ctx, instance("1", "expiry"));
        const watcher = await observer.watch(ctx, "expiry");
        assert.deepEqual(await watcher.next(), [instance("1", "expiry")]);
        const { kvs } = await raw.getAll().prefix("/microservices/expiry/").exec();
        const leaseId = kvs[0]?.lease;
        assert.ok(leaseId !== undefined && leaseId !== "0");
        const lease = await raw.leaseClient.leaseTimeToLive({ ID: leaseId });
        assert.equal(lease.grantedTTL, "2", "the key is on a lease of the configured TTL");
        // A crashed process: its keepalives stop and nobody deregisters.
        await registry.close();
        assert.deepEqual(await watcher.next(), []);
        await watcher.stop();
      } finally {
        await registry.close();
        await observer.close();
      }
    });
  });

  describe("etcd registry faults", () => {
    it("survives etcd being killed and restarted, with few log lines", async () => {
      const etcd = await startEtcd();
      const logger = recordingLogger();
      const registry = createEtcdRegistry({
        endpoints: [etcd.endpoint],
        ttl: 2,
        logger,
        maxRetryDelay: 500,
        callTimeout: 1_000,
      });
      try {
        await registry.register(ctx, instance("1", "restart"));
        await etcd.kill();
        await eventually("the outage to be noticed", () =>
          logger.lines.some((l) => l.msg.includes("unreachable")),
        );
        await etcd.restart();
        await eventually(
          "the instance to be registered again",
          () => logger.lines.some((l) => l.msg.includes("reachable again")),
          15_000,
        );
        // The lines of this outage, up to its end: a keepalive that takes longer than the
        // callTimeout on a busy machine is a new outage, logged as one, and not this test's.
        const outage = logger.lines.slice(
          0,
          logger.lines.findIndex((l) => l.msg.includes("reachable again")) + 1,
        );
        const raw = new Etcd3({ hosts: etcd.endpoint });
        try {
          assert.notEqual(await raw.get("/microservices/restart/1").string(), null);
        } finally {
          raw.close();
        }
        assert.ok(outage.length <= 3, `few log lines: ${JSON.stringify(outage)}`);
        await registry.deregister(ctx, instance("1", "restart"));
      } finally {
        await registry.close();
        await etcd.stop();
      }
    });

    it("lets the app serve while etcd is down, and registers once etcd appears", async () => {
      const port = await freePort();
      const logger = recordingLogger();
      const registry = createEtcdRegistry({
        endpoints: [`http://127.0.0.1:${port}`],
        logger,
        maxRetryDelay: 500,
        callTimeout: 1_000,
      });
      const http = createHttpServer({ addr: "127.0.0.1:0" });
      let etcd: EtcdServer | undefined;
      let found: ServiceInstance[] = [];
      let warnings = 0;
      const app = createApp({
        id: "down-1",
        name: "late",
        version: "v1",
        signals: [],
        servers: [http],
        registrar: registry,
        registrarTimeout: 5_000,
        afterStart: [
          async () => {
            try {
              // The app is up and serving although etcd is not.
              const res = await fetch(`http://127.0.0.1:${http.endpoint().port}/nothing`);
              assert.equal(res.status, 404);
              etcd = await startEtcd({ clientPort: port });
              const reader = createEtcdRegistry({ endpoints: [etcd.endpoint] });
              try {
                await eventually(
                  "the instance to appear",
                  async () => (found = await reader.getService(ctx, "late")).length === 1,
                  15_000,
                );
                // Counted now: once etcd is up, a keepalive slower than the callTimeout on a
                // busy machine is another outage with its own warning.
                warnings = logger.lines.filter((l) => l.msg.includes("unreachable")).length;
              } finally {
                await reader.close();
              }
            } finally {
              void app.stop();
            }
          },
        ],
      });
      try {
        await app.run();
        assert.deepEqual(
          found.map((i) => i.id),
          ["down-1"],
        );
        assert.equal(warnings, 1, "logged once while etcd was down");
      } finally {
        await registry.close();
        await etcd?.stop();
      }
    });
  });

  describe("the layout service with registry.etcd", () => {
    it("registers itself in etcd as Go Kratos does, and deregisters on SIGTERM", async () => {
      const etcd = await startEtcd();
      const dir = tempDir("kratos-ts-layout-etcd-");
      const raw = new Etcd3({ hosts: etcd.endpoint });
      try {
        writeLayoutConfig(dir.path, { etcd: etcd.endpoint });
        const service = await startService(["-conf", "./configs"], dir.path);
        const prefix = "/microservices/helloworld/";
        let stored: Record<string, string> = {};
        await eventually("the instance key in etcd", async () => {
          stored = await raw.getAll().prefix(prefix).strings();
          return Object.keys(stored).length === 1;
        });
        const [key, value] = Object.entries(stored)[0] ?? ["", ""];
        const parsed = JSON.parse(value) as ServiceInstance;
        assert.equal(key, `${prefix}${parsed.id}`);
        assert.deepEqual(Object.keys(parsed), ["id", "name", "version", "metadata", "endpoints"]);
        assert.equal(parsed.name, "helloworld");
        assert.deepEqual(parsed.endpoints, [
          service.http.href.replace(/\/$/, ""),
          `grpc://${service.grpc.host}`,
        ]);
        service.child.kill("SIGTERM");
        assert.equal(await service.exited, 0);
        assert.deepEqual(await raw.getAll().prefix(prefix).keys(), [], "deregistered on stop");
      } finally {
        raw.close();
        dir.remove();
        await etcd.stop();
      }
    });
  });
});
