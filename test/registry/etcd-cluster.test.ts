// The helloworld layout running as several processes registered in a real etcd, and clients
// balancing over them through discovery:///helloworld: the README's two-instance walkthrough,
// instances leaving gracefully or crashing, and etcd itself going away for longer than a lease.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Etcd3 } from "etcd3";
import { Greeter } from "../../api/helloworld/v1/greeter_pb.js";
import { createContext } from "../../src/context.js";
import { fromError } from "../../src/errors/from-error.js";
import type { Middleware } from "../../src/middleware/middleware.js";
import { discoveryResolver } from "../../src/registry/discovery-resolver.js";
import { createEtcdRegistry } from "../../src/registry/etcd.js";
import type { EtcdRegistry } from "../../src/registry/etcd.js";
import { createGrpcClient } from "../../src/transport/grpc/index.js";
import { clientTransport } from "../../src/transport/transport.js";
import { etcdSkip, eventually, startEtcd } from "../helpers/etcd.js";
import type { EtcdServer } from "../helpers/etcd.js";
import { repoRoot, runAsync, tempDir } from "../helpers/repo.js";
import { startService, writeLayoutConfig } from "../helpers/service.js";
import type { ServiceProcess } from "../helpers/service.js";

const ctx = createContext();
/** The lease TTL of the instances, in seconds: short, so expiries happen within the test. */
const ttl = 2;
const clientMain = join(repoRoot, "dist", "cmd", "client", "main.js");

type Service = ServiceProcess & { http: URL; grpc: URL };

/** The instance's gRPC endpoint as the registry lists it. */
const grpcOf = (service: Service) => `grpc://${service.grpc.host}`;

async function stopAll(services: Iterable<Service>): Promise<void> {
  await Promise.all(
    [...services].map(async (s) => {
      if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill("SIGTERM");
      await s.exited;
    }),
  );
}

/** Resolves once `count` more calls have been served after the call `from`, or fails. */
function servedSince(served: readonly string[], from: number, count: number, what: string) {
  return eventually(what, () => served.length - from >= count, 10_000);
}

describe("helloworld instances on etcd", { skip: etcdSkip(), timeout: 60_000 }, () => {
  let etcd: EtcdServer;
  let dir: { path: string; remove: () => void };
  // Two instances for both tests (the README's pair, then two of the three): starting a
  // service process is most of this suite's time on a busy machine.
  let pair: [Service, Service];
  const running = new Set<Service>();
  const start = async () => {
    const service = await startService(["-conf", "./configs"], dir.path);
    running.add(service);
    return service;
  };
  /**
   * Resolves once etcd lists exactly `services`: a service logs "started" after its first
   * registration attempt, which a busy machine can fail (a retry puts the key later).
   */
  const registered = async (services: Service[]) => {
    const reader = createEtcdRegistry({ endpoints: [etcd.endpoint] });
    const want = services.map(grpcOf).sort().join();
    try {
      await eventually("the instances in etcd", async () => {
        const listed = await reader.getService(ctx, "helloworld");
        return (
          listed
            .flatMap((i) => i.endpoints.filter((e) => e.startsWith("grpc://")))
            .sort()
            .join() === want
        );
      });
    } finally {
      await reader.close();
    }
  };

  before(async () => {
    etcd = await startEtcd();
    dir = tempDir("kratos-ts-cluster-");
    writeLayoutConfig(dir.path, { etcd: etcd.endpoint, ttl });
    pair = await Promise.all([start(), start()]);
  });
  after(async () => {
    await stopAll(running);
    dir.remove();
    await etcd.stop();
  });

  it("two instances and `npm run client`: the calls reach both (README)", async () => {
    await registered(pair);
    const r = await runAsync(
      process.execPath,
      [clientMain, "-conf", "./configs", "-n", "6"],
      dir.path,
    );
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split("\n");
    assert.equal(lines.length, 6, r.stdout);
    for (const line of lines) {
      assert.match(line, /^grpc:\/\/127\.0\.0\.1:\d+ Hello kratos$/);
    }
    // p2c probes each instance it has not picked yet, so six calls reach both.
    assert.deepEqual(new Set(lines.map((line) => line.split(" ")[0])), new Set(pair.map(grpcOf)));
  });

  it("three instances: one stops gracefully without a failed call; one killed is dropped when its key expires", async () => {
    const services: [Service, Service, Service] = [...pair, await start()];
    const [graceful, killed, last] = services;
    const registry = createEtcdRegistry({ endpoints: [etcd.endpoint] });
    const served: string[] = [];
    const failures: { endpoint: string; err: unknown }[] = [];
    const record: Middleware = (next) => async (c, req) => {
      try {
        const reply = await next(c, req);
        served.push(clientTransport(c)?.endpoint ?? "");
        return reply;
      } catch (err) {
        failures.push({ endpoint: clientTransport(c)?.endpoint ?? "", err });
        throw err;
      }
    };
    const client = createGrpcClient(Greeter, {
      endpoint: "discovery:///helloworld",
      resolver: discoveryResolver({ discovery: registry, scheme: "grpc" }),
      middleware: [record],
      timeout: 5_000,
    });
    // Four callers, each making one call after the other until the test ends.
    let calling = true;
    const caller = async () => {
      while (calling) await client.sayHello({ name: "load" }).catch(() => undefined);
    };
    const callers = [caller(), caller(), caller(), caller()];
    try {
      await eventually("calls on all three instances", () =>
        services.every((s) => served.includes(grpcOf(s))),
      );

      // SIGTERM: the app deregisters, then stops its servers, finishing the calls under way.
      graceful.child.kill("SIGTERM");
      assert.equal(await graceful.exited, 0);
      const afterGraceful = served.length;
      await servedSince(served, afterGraceful, 100, "100 calls after the graceful stop");
      assert.deepEqual(failures, [], "no call failed while an instance left gracefully");
      assert.ok(!served.slice(afterGraceful).includes(grpcOf(graceful)));
      assert.deepEqual(
        new Set(served.slice(afterGraceful)),
        new Set([grpcOf(killed), grpcOf(last)]),
        "the traffic moved to the other two",
      );

      // SIGKILL: nothing deregisters; the key stays until its lease expires.
      const killedAt = Date.now();
      killed.child.kill("SIGKILL");
      await killed.exited;
      await eventually(
        "the killed instance's key to expire",
        async () => (await registry.getService(ctx, "helloworld")).length === 1,
        (ttl + 5) * 1000,
      );
      const expiredAfter = Date.now() - killedAt;
      const afterExpiry = served.length;
      const failedBefore = failures.length;
      await servedSince(served, afterExpiry, 100, "100 calls after the key expired");
      assert.equal(failures.length, failedBefore, "no call failed once the key had expired");
      assert.deepEqual(new Set(served.slice(afterExpiry)), new Set([grpcOf(last)]));
      // Before that, only the calls under way on the killed instance may fail (at most one per
      // caller), as 503s naming the lost connection; calls picked for it later were refused and
      // moved to a live instance (NodePicker).
      assert.ok(failures.length <= callers.length, `failures: ${failures.length}`);
      for (const { endpoint, err } of failures) {
        assert.equal(endpoint, grpcOf(killed));
        assert.equal(fromError(err).code, 503, String(err));
      }
      assert.ok(expiredAfter < (ttl + 5) * 1000, `expired after ${expiredAfter} ms`);
    } finally {
      calling = false;
      await Promise.all(callers);
      client.close();
      await registry.close();
      await stopAll(services);
      services.forEach((s) => running.delete(s));
    }
  });
});

describe("an etcd outage longer than 2 x TTL", { skip: etcdSkip(), timeout: 60_000 }, () => {
  it("puts the instance's key back within a few seconds of etcd's return, and keeps it", async () => {
    const etcd = await startEtcd();
    const registry: EtcdRegistry = createEtcdRegistry({
      endpoints: [etcd.endpoint],
      ttl,
      maxRetryDelay: 500,
      callTimeout: 1_000,
    });
    const raw = new Etcd3({ hosts: etcd.endpoint });
    const key = "/microservices/outage/1";
    const instance = {
      id: "1",
      name: "outage",
      version: "v1",
      metadata: {},
      endpoints: ["grpc://127.0.0.1:9"],
    };
    const present = async () =>
      (await raw
        .get(key)
        .string()
        .catch(() => null)) !== null;
    try {
      await registry.register(ctx, instance);
      // register resolves after the first attempt, put or not: on a busy machine a fresh etcd
      // can take longer than the 1 s callTimeout, and the key comes with a retry.
      await eventually("the key to be put", present);
      await etcd.kill();
      // The outage is the point of the test: the lease (TTL 2 s) cannot be kept alive for
      // longer than twice its TTL, so it is gone when etcd comes back.
      const killedAt = Date.now();
      await eventually(
        "2 x TTL + 1 s of outage",
        () => Date.now() - killedAt > (2 * ttl + 1) * 1000,
      );
      await etcd.restart();
      const back = Date.now();
      await eventually("the key to be back", present, 10_000);
      const tookMs = Date.now() - back;
      assert.ok(tookMs < 5_000, `the key came back after ${tookMs} ms`);
      // etcd may restore the old lease for one more TTL and then drop it with the key: the
      // registry must notice and put the key again, so after 2 x TTL the key is still there.
      const settled = Date.now();
      await eventually("2 x TTL after the return", () => Date.now() - settled > 2 * ttl * 1000);
      await eventually("the key to be there", present, 5_000);
      await registry.deregister(ctx, instance);
      assert.equal(await present(), false);
    } finally {
      raw.close();
      await registry.close();
      await etcd.stop();
    }
  });
});
