// Issue 23's live-change drill with a real etcd: three layout instances (versions v1, v1, v2)
// registered in etcd and following `governance` from their etcd config source, and a steady
// caller on `discovery:///helloworld` whose client-side rules follow the same etcd key. A fault
// rule put into etcd aborts 30% of the calls within a second; route rules then send every call
// of `x-md-user: beta` to the v2 instance and ~10% of the others; deleting the key ends the
// faults and the routing. No call fails for any other reason than an injected fault.
import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import { Etcd3 } from "etcd3";
import { createConfig } from "kratos-ts/config";
import { etcdSource } from "kratos-ts/config/etcd";
import { KratosError } from "kratos-ts/errors";
import { followGovernance, governance, seededRandom } from "kratos-ts/governance";
import type { FollowedGovernance } from "kratos-ts/governance";
import type { Middleware } from "kratos-ts/middleware";
import { createEtcdRegistry, discoveryResolver } from "kratos-ts/registry";
import { clientTransport } from "kratos-ts/transport";
import { createGrpcClient } from "kratos-ts/transport/grpc";
import { Greeter } from "../../api/helloworld/v1/greeter_pb.js";
import { etcdSkip, eventually, startEtcd } from "../helpers/etcd.js";
import { repoRoot, runAsync, tempDir } from "../helpers/repo.js";
import { startService, writeLayoutConfig } from "../helpers/service.js";
import type { LogLine, ServiceProcess } from "../helpers/service.js";

const key = "/configs/helloworld.yaml";
const clientMain = join(repoRoot, "dist", "cmd", "client", "main.js");
const say = "/helloworld.v1.Greeter/SayHello";

/** The server-side drill: 30% of SayHello aborted with 503. */
const faultRule = [
  "    - name: drill",
  `      match: { side: server, operations: [${say}] }`,
  "      fault: { abort: { code: UNAVAILABLE, percentage: 30 } }",
];

/** The caller's canary: beta users to v2, 10% of the others. */
const routeRules = [
  "    - name: beta",
  "      match: { side: client, headers: { x-md-user: beta } }",
  "      route: { destinations: [{ version: v2 }], fallback: fail }",
  "    - name: canary",
  `      match: { side: client, operations: [${say}] }`,
  "      route: { destinations: [{ version: v1, weight: 90 }, { version: v2, weight: 10 }] }",
];

/** One call of the steady caller. */
interface Call {
  /** performance.now() when it started: a phase counts the calls started after it applied. */
  readonly start: number;
  readonly beta: boolean;
  /** The node it went to (`host:port`). */
  readonly host: string;
  readonly faulted: boolean;
}

/** Calls SayHello without a pause on `workers` loops (every 4th call as user beta). */
function steadyCaller(workers: number, call: (beta: boolean) => Promise<Call>) {
  const calls: Call[] = [];
  const unexpected: string[] = [];
  let running = true;
  let n = 0;
  const loops = Array.from({ length: workers }, async () => {
    while (running) {
      try {
        calls.push(await call(n++ % 4 === 0));
      } catch (err) {
        unexpected.push(err instanceof Error ? `${err.name}: ${err.message}` : String(err));
      }
    }
  });
  return {
    calls,
    unexpected,
    /** The first `count` calls started after `since`, once they have ended. */
    async window(since: number, count: number): Promise<Call[]> {
      const after = () => calls.filter((c) => c.start >= since);
      await eventually(`${count} calls`, () => after().length >= count, 20_000);
      return after().slice(0, count);
    },
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

/** Waits until every service logged `governance rules applied` with `rules`, after line `seen`. */
function applied(services: ServiceProcess[], seen: number[], rules: string[]): Promise<LogLine[]> {
  return Promise.all(
    services.map((s, i) =>
      s.waitForLine(
        (l) =>
          s.lines.indexOf(l) >= (seen[i] ?? 0) &&
          l["module"] === "governance" &&
          l["msg"] === "governance rules applied" &&
          JSON.stringify(l["rules"]) === JSON.stringify(rules),
      ),
    ),
  );
}

const share = (calls: Call[], test: (c: Call) => boolean) =>
  calls.filter(test).length / Math.max(1, calls.length);

describe(
  "governance changed live through etcd, three instances",
  { skip: etcdSkip(), timeout: 90_000 },
  () => {
    it("aborts 30%, routes beta to v2 and 10% of the rest, and stops, with no failed switch", async (t) => {
      const etcd = await startEtcd();
      const writer = new Etcd3({ hosts: etcd.endpoint });
      const dirs = [1, 2, 3].map(() => tempDir("kratos-ts-governance-live-"));
      const services: (ServiceProcess & { grpc: URL })[] = [];
      const registry = createEtcdRegistry({ endpoints: [etcd.endpoint] });
      const config = createConfig({ sources: [etcdSource({ endpoints: [etcd.endpoint], key })] });
      let rules: FollowedGovernance | undefined;
      let closeGreeter: () => void = () => undefined;
      try {
        const began = performance.now();
        const versions = ["v1", "v1", "v2"];
        services.push(
          ...(await Promise.all(
            dirs.map((dir, i) => {
              writeLayoutConfig(dir.path, {
                etcd: etcd.endpoint,
                version: versions[i],
                extra: ["config_source:", `  etcd: { endpoints: [${etcd.endpoint}], key: ${key} }`],
              });
              // Generous server deadlines (default 1 s): with both cores busy a call may wait
              // for a starved process, and only the drill may fail calls here.
              return startService(["-conf", "./configs"], dir.path, {
                HELLOWORLD_SERVER__GRPC__TIMEOUT: "10s",
              });
            }),
          )),
        );
        const v2 = services[2]?.grpc.host ?? assert.fail("no v2");
        t.diagnostic(`three instances started in ${(performance.now() - began).toFixed(0)} ms`);

        // The caller: its client-side rules follow the same etcd key; seeded for the 90/10 draw.
        await config.load();
        rules = followGovernance(config, { random: seededRandom(23) });
        const store = rules;
        // The node each call went to, by the call's unique name (the workers overlap).
        const hosts = new Map<string, string>();
        const endpoint: Middleware = (next) => async (ctx, req) => {
          try {
            return await next(ctx, req);
          } finally {
            const name = (req as { name: string }).name;
            hosts.set(name, new URL(clientTransport(ctx)?.endpoint ?? "grpc://unknown").host);
          }
        };
        let sent = 0;
        const client = createGrpcClient(Greeter, {
          endpoint: "discovery:///helloworld",
          resolver: discoveryResolver({ discovery: registry, scheme: "grpc" }),
          middleware: [endpoint, governance.client({ store })],
          timeout: 10_000,
        });
        closeGreeter = () => {
          client.close();
        };
        const caller = steadyCaller(8, async (beta) => {
          const start = performance.now();
          const headers: Record<string, string> = beta ? { "x-md-user": "beta" } : {};
          const name = `call-${sent++}`;
          const ended = (faulted: boolean): Call => {
            const host = hosts.get(name) ?? "";
            hosts.delete(name);
            return { start, beta, host, faulted };
          };
          try {
            await client.sayHello({ name }, { headers });
            return ended(false);
          } catch (err) {
            // An injected fault is the drill; anything else is a failure the switch caused.
            if (err instanceof KratosError && err.reason === "FAULT_INJECTED" && err.code === 503) {
              return ended(true);
            }
            throw err;
          }
        });
        try {
          // Every instance is found and called before the drill starts.
          await eventually(
            "calls on all three instances",
            () => new Set(caller.calls.map((c) => c.host)).size === 3,
            20_000,
          );
          assert.equal(
            share(await caller.window(performance.now(), 100), (c) => c.faulted),
            0,
          );

          // The fault rule: applied by the three services within a second, 30% aborted.
          const write = async (lines: string[]) => {
            const seen = services.map((s) => s.lines.length);
            const start = performance.now();
            if (lines.length === 0) await writer.delete().key(key);
            else await writer.put(key).value(`governance:\n  rules:\n${lines.join("\n")}\n`);
            return { seen, start };
          };
          let change = await write(faultRule);
          await applied(services, change.seen, ["drill"]);
          const faultMs = performance.now() - change.start;
          assert.ok(faultMs < 1000, `fault rule applied after ${faultMs.toFixed(0)} ms`);
          const aborted = share(await caller.window(performance.now(), 1000), (c) => c.faulted);
          t.diagnostic(
            `fault rule applied in ${faultMs.toFixed(0)} ms, ${(aborted * 100).toFixed(1)}% aborted`,
          );
          assert.ok(aborted >= 0.25 && aborted <= 0.35, `${(aborted * 100).toFixed(1)}% aborted`);

          // The route rules join it: the caller applies them within a second.
          change = await write([...faultRule, ...routeRules]);
          await eventually(
            "the caller's route rules",
            () => store.current.rules.length === 3,
            5_000,
          );
          const routeMs = performance.now() - change.start;
          assert.ok(routeMs < 1000, `route rules applied after ${routeMs.toFixed(0)} ms`);
          await applied(services, change.seen, ["drill", "beta", "canary"]);
          const routed = await caller.window(performance.now(), 1000);
          const beta = routed.filter((c) => c.beta);
          const rest = routed.filter((c) => !c.beta);
          assert.equal(
            share(beta, (c) => c.host === v2),
            1,
            "every beta call on v2",
          );
          const toV2 = share(rest, (c) => c.host === v2);
          assert.ok(toV2 >= 0.05 && toV2 <= 0.15, `${(toV2 * 100).toFixed(1)}% of the rest on v2`);
          const stillAborted = share(routed, (c) => c.faulted);
          t.diagnostic(
            `route rules applied in ${routeMs.toFixed(0)} ms, ${beta.length} beta calls on v2, ${(toV2 * 100).toFixed(1)}% of ${rest.length} others on v2`,
          );
          assert.ok(
            stillAborted >= 0.25 && stillAborted <= 0.35,
            `${(stillAborted * 100).toFixed(1)}%`,
          );

          // The fault rule removed, the route rules kept: no faults, beta still on v2. The
          // layout's own client (`npm run client -- -md user=beta`) follows the same rules.
          change = await write(routeRules);
          await applied(services, change.seen, ["beta", "canary"]);
          await eventually("the caller's rules", () => store.current.rules.length === 2, 5_000);
          const unfaulted = await caller.window(performance.now(), 100);
          assert.equal(
            share(unfaulted, (c) => c.faulted),
            0,
          );
          assert.equal(
            share(
              unfaulted.filter((c) => c.beta),
              (c) => c.host === v2,
            ),
            1,
          );
          const cli = await runAsync(
            process.execPath,
            [clientMain, "-conf", "./configs", "-n", "4", "-md", "user=beta"],
            dirs[0]?.path,
          );
          assert.equal(cli.status, 0, cli.stderr);
          assert.equal(cli.stdout, `grpc://${v2} Hello kratos\n`.repeat(4));

          // Removed: no faults, and beta calls spread over every instance again.
          change = await write([]);
          await applied(services, change.seen, []);
          await eventually(
            "the caller's rules removed",
            () => store.current.rules.length === 0,
            5_000,
          );
          const after = await caller.window(performance.now(), 200);
          assert.equal(
            share(after, (c) => c.faulted),
            0,
          );
          assert.ok(
            share(
              after.filter((c) => c.beta),
              (c) => c.host !== v2,
            ) > 0,
            "beta calls on v1 again",
          );
        } finally {
          await caller.stop();
        }
        t.diagnostic(
          `${caller.calls.length} calls in ${(performance.now() - began).toFixed(0)} ms`,
        );
        assert.deepEqual(caller.unexpected, [], "no call failed because of a switch");
      } finally {
        closeGreeter();
        await rules?.close();
        await config.close();
        for (const s of services) s.child.kill("SIGTERM");
        const codes = await Promise.all(services.map((s) => s.exited));
        await registry.close();
        writer.close();
        for (const dir of dirs) dir.remove();
        await etcd.stop();
        assert.deepEqual(codes, [0, 0, 0]);
      }
    });
  },
);
