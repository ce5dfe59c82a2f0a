// The HTTP and gRPC clients on `discovery:///helloworld`, over real sockets: servers on port 0
// registered in a memory registry, found through discoveryResolver.
import assert from "node:assert/strict";
import { EventEmitter, once } from "node:events";
import net from "node:net";
import { after, describe, it } from "node:test";
import { createContext } from "../../src/context.js";
import { KratosError } from "../../src/errors/error.js";
import { reasons } from "../../src/errors/reasons.js";
import { discoveryResolver } from "../../src/registry/discovery-resolver.js";
import { createMemoryRegistry } from "../../src/registry/memory.js";
import { p2cBalancer, versionFilter } from "../../src/selector/index.js";
import type { BalancerFactory, SelectorOptions } from "../../src/selector/index.js";
import type { MemoryRegistry } from "../../src/registry/memory.js";
import type { ServiceInstance } from "../../src/registry/registry.js";
import { createGrpcClient, createGrpcServer } from "../../src/transport/grpc/index.js";
import { createHttpClient, createHttpServer } from "../../src/transport/http/index.js";
import type { ClientRoute } from "../../src/transport/http/index.js";
import {
  EchoService,
  SayRequestSchema,
  SayResponseSchema,
} from "../fixtures/http/gen/echo/v1/echo_pb.js";

const ctx = createContext();

/** One running server of the suite: its instance, as the registry lists it. */
interface Running {
  instance: ServiceInstance;
  stop(): Promise<void>;
  /** Stops at once, cutting the calls under way: a crash, as far as clients can tell. */
  kill(): Promise<void>;
}

/**
 * The handler of the servers: answers with the server's name, or, for the sentence "hang",
 * reports the call to `hung` and answers only when the call ends.
 */
function sayAs(name: string) {
  return (req: { sentence: string }, ctx: { signal: AbortSignal }) => {
    if (req.sentence !== "hang") {
      return Promise.resolve({ sentence: req.sentence, headers: { server: name } });
    }
    hung.emit("call", name);
    return new Promise<never>((_resolve, reject) => {
      ctx.signal.addEventListener("abort", () => {
        reject(new Error("cut"));
      });
    });
  };
}
const hung = new EventEmitter();

/** One transport under test: how to start a server and make a client of the service. */
interface Kit {
  scheme: "http" | "grpc";
  start(name: string): Promise<Running>;
  /** A client whose `say` returns the name of the server that answered. */
  client(
    registry: MemoryRegistry,
    selector?: SelectorOptions,
  ): {
    say(options?: { timeoutMs?: number; sentence?: string }): Promise<string>;
    close(): void;
  };
}

const sayRoute: ClientRoute<typeof SayRequestSchema, typeof SayResponseSchema> = {
  method: "POST",
  path: "/v1/say",
  operation: "/echo.v1.EchoService/Say",
  input: SayRequestSchema,
  output: SayResponseSchema,
  body: "*",
};

const refused = () => Promise.reject(new KratosError(501, "", "not in this test"));

function instance(name: string, endpoint: URL): ServiceInstance {
  return { id: name, name: "helloworld", version: "v1", metadata: {}, endpoints: [endpoint.href] };
}

/** The URL of a loopback port nothing listens on (bound, then closed). */
async function deadEndpoint(scheme: string): Promise<URL> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return new URL(`${scheme}://127.0.0.1:${port}`);
}

const kits: Kit[] = [
  {
    scheme: "grpc",
    async start(name) {
      const server = createGrpcServer({ addr: "127.0.0.1:0" });
      server.register(EchoService, {
        say: sayAs(name),
        fail: refused,
        slow: refused,
        // eslint-disable-next-line require-yield -- not called: the test only says
        async *count() {
          await refused();
        },
        sum: refused,
        // eslint-disable-next-line require-yield -- not called: the test only says
        async *chat() {
          await refused();
        },
      });
      await server.start();
      return {
        instance: instance(name, server.endpoint()),
        stop: () => server.stop(),
        kill: () => server.stop(AbortSignal.abort()),
      };
    },
    client(registry, selector) {
      const client = createGrpcClient(EchoService, {
        endpoint: "discovery:///helloworld",
        resolver: discoveryResolver({ discovery: registry, scheme: "grpc" }),
        ...(selector === undefined ? {} : { selector }),
      });
      return {
        say: async (options) =>
          (await client.say({ sentence: options?.sentence ?? "hi" }, options)).headers.server ?? "",
        close: () => {
          client.close();
        },
      };
    },
  },
  {
    scheme: "http",
    async start(name) {
      const server = createHttpServer({ addr: "127.0.0.1:0" });
      server.route({
        ...sayRoute,
        handler: sayAs(name),
      });
      await server.start();
      return {
        instance: instance(name, server.endpoint()),
        stop: () => server.stop(),
        kill: () => server.stop(AbortSignal.abort()),
      };
    },
    client(registry, selector) {
      const client = createHttpClient({
        endpoint: "discovery:///helloworld",
        resolver: discoveryResolver({ discovery: registry, scheme: "http" }),
        ...(selector === undefined ? {} : { selector }),
      });
      return {
        say: async (options) =>
          (await client.invoke(sayRoute, { sentence: options?.sentence ?? "hi" }, options)).headers
            .server ?? "",
        close: () => {
          client.close();
        },
      };
    },
  },
];

for (const kit of kits) {
  describe(`${kit.scheme} client on discovery:///helloworld`, () => {
    const running = new Set<Running>();
    const start = async (name: string) => {
      const server = await kit.start(name);
      running.add(server);
      return server;
    };
    const stop = async (server: Running) => {
      running.delete(server);
      await server.stop();
    };
    after(async () => {
      await Promise.all([...running].map(stop));
    });

    // Waits on the calls themselves, not on the clock (a loaded machine made fewer than 20 calls
    // in the 5 s it used to allow); the timeout only ends a run that hangs.
    it(
      "spreads calls over every instance; one leaving gracefully fails no call",
      { timeout: 60_000 },
      async () => {
        const registry = createMemoryRegistry();
        const servers = await Promise.all(["a", "b", "c"].map(start));
        for (const s of servers) await registry.register(ctx, s.instance);
        const client = kit.client(registry);
        // Steady traffic from four callers while "a" deregisters and stops.
        const served: string[] = [];
        const failures: unknown[] = [];
        const progress = new EventEmitter();
        let running = true;
        const caller = async () => {
          while (running) {
            try {
              served.push(await client.say());
            } catch (err) {
              failures.push(err);
            }
            progress.emit("call");
          }
        };
        /** Resolves once `check` holds, looking again after every call that ends. */
        const until = (check: () => boolean) =>
          new Promise<void>((resolve) => {
            const look = () => {
              if (!check()) return;
              progress.off("call", look);
              resolve();
            };
            progress.on("call", look);
            look();
          });
        let callers: Promise<void>[] = [];
        try {
          const seen = new Set<string>();
          for (let i = 0; i < 30; i++) seen.add(await client.say());
          assert.deepEqual([...seen].sort(), ["a", "b", "c"]);

          callers = [caller(), caller(), caller(), caller()];
          const [a] = servers;
          assert.ok(a !== undefined);
          await registry.deregister(ctx, a.instance);
          // The update reaches the clients asynchronously: wait for 20 calls in a row that "a"
          // did not serve (a client that kept calling "a" never gets there).
          const deregistered = served.length;
          await until(
            () => served.length - Math.max(deregistered, served.lastIndexOf("a") + 1) >= 20,
          );
          await stop(a);
          const afterStop = served.length;
          await until(() => served.length - afterStop >= 30 || failures.length > 0);
          running = false;
          await Promise.all(callers);
          assert.deepEqual(failures, []);
          const rest = new Set(served.slice(afterStop));
          assert.deepEqual([...rest].sort(), ["b", "c"]);
        } finally {
          // Also when an assertion failed: callers left running on a closed client would spin
          // forever and keep the test file from ending.
          running = false;
          await Promise.all(callers);
          client.close();
        }
      },
    );

    it("wrr: calls follow the metadata weights exactly over a cycle", async () => {
      const registry = createMemoryRegistry();
      const [heavy, light] = await Promise.all(["heavy", "light"].map(start));
      assert.ok(heavy !== undefined && light !== undefined);
      await registry.register(ctx, { ...heavy.instance, metadata: { weight: "3" } });
      await registry.register(ctx, { ...light.instance, metadata: { weight: "1" } });
      const client = kit.client(registry, { balancer: "wrr" });
      try {
        const served: string[] = [];
        for (let i = 0; i < 8; i++) served.push(await client.say());
        // A cycle is the sum of the weights: 4 calls, 3 heavy and 1 light in each.
        for (const cycle of [served.slice(0, 4), served.slice(4)]) {
          assert.deepEqual(cycle.sort(), ["heavy", "heavy", "heavy", "light"]);
        }
      } finally {
        client.close();
      }
    });

    it("node filters keep calls on the instances of one version", async () => {
      const registry = createMemoryRegistry();
      const [old, next] = await Promise.all(["old", "next"].map(start));
      assert.ok(old !== undefined && next !== undefined);
      await registry.register(ctx, old.instance);
      await registry.register(ctx, { ...next.instance, version: "v2" });
      const client = kit.client(registry, { filters: [versionFilter("v2")] });
      try {
        for (let i = 0; i < 10; i++) assert.equal(await client.say(), "next");
      } finally {
        client.close();
      }
    });

    it("a registered node that refuses connections costs no failed call, and p2c drops it", async () => {
      const registry = createMemoryRegistry();
      const live = await start("live");
      await registry.register(ctx, live.instance);
      // Registered but gone: its connections are refused, as after a crash before the lease ends.
      const dead = await deadEndpoint(kit.scheme);
      await registry.register(ctx, instance("dead", dead));
      const picks: string[] = [];
      const countingP2c: BalancerFactory = (env) => {
        const inner = p2cBalancer()(env);
        return {
          pick(nodes) {
            const picked = inner.pick(nodes);
            picks.push(picked.node.url.host);
            return picked;
          },
          update: (nodes) => inner.update?.(nodes),
        };
      };
      // The selector's clock moves 1 ms per reading, not with the wall clock: on a busy machine
      // the 40 calls could take longer than p2c's 3 s idle probe, which then picks the dead node
      // again. Its reasons to pick a node are the scores and the first probe, which this checks.
      let ticks = 0;
      const now = () => ++ticks;
      const client = kit.client(registry, { balancer: countingP2c, now });
      try {
        for (let i = 0; i < 40; i++) assert.equal(await client.say({ timeoutMs: 5_000 }), "live");
        assert.ok(ticks < 3000, `the clock stayed short of an idle probe: ${ticks} ms`);
        // p2c probes a node it never picked (the refused call then moves to the live node),
        // and the failure sinks its score: only an idle probe after 3 s could pick it again.
        const deadPicks = picks.filter((host) => host === dead.host).length;
        assert.ok(deadPicks >= 1 && deadPicks <= 2, `picks of the dead node: ${deadPicks}`);
      } finally {
        client.close();
      }
    });

    it("a node that disappears mid-call: that call fails with a 503, the next ones go elsewhere", async () => {
      const registry = createMemoryRegistry();
      const servers = new Map<string, Running>();
      for (const name of ["one", "two"]) {
        const server = await start(name);
        servers.set(name, server);
        await registry.register(ctx, server.instance);
      }
      const client = kit.client(registry);
      try {
        const arrived = once(hung, "call") as Promise<[string]>;
        const call = client.say({ sentence: "hang", timeoutMs: 5_000 });
        const [doomed] = await arrived;
        // Killed, still registered: the registry has not heard of it yet, as after a crash.
        await servers.get(doomed)?.kill();
        await assert.rejects(call, (err: unknown) => {
          assert.ok(err instanceof KratosError, String(err));
          assert.equal(err.code, 503, err.message);
          return true;
        });
        const survivor = doomed === "one" ? "two" : "one";
        for (let i = 0; i < 5; i++) assert.equal(await client.say(), survivor);
      } finally {
        client.close();
      }
    });

    it("a call made before any instance exists waits for the first one", async () => {
      const registry = createMemoryRegistry();
      const client = kit.client(registry);
      try {
        const call = client.say({ timeoutMs: 5_000 });
        const d = await start("d");
        await registry.register(ctx, d.instance);
        assert.equal(await call, "d");
      } finally {
        client.close();
      }
    });

    it("a call finds no instance before its deadline: 503 NODE_NOT_FOUND", async () => {
      const client = kit.client(createMemoryRegistry());
      try {
        await assert.rejects(client.say({ timeoutMs: 50 }), (err: unknown) => {
          assert.ok(err instanceof KratosError);
          assert.equal(err.code, 503);
          assert.equal(err.reason, reasons.nodeNotFound);
          assert.match(err.message, /no instance of helloworld/);
          return true;
        });
      } finally {
        client.close();
      }
    });
  });
}
