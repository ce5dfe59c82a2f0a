// The resilience rule kinds over real sockets: a GovernanceStore drives governance.server() on
// an HTTP and a gRPC server (bulkhead, breaker, local rate limit, live bulkhead edit) and
// governance.client() on their clients (retry); a Redis rate limit is shared by two stores.
import assert from "node:assert/strict";
import { once } from "node:events";
import { after, before, beforeEach, describe, it } from "node:test";
import type { Context } from "kratos-ts/context";
import { KratosError } from "kratos-ts/errors";
import {
  createGovernanceStore,
  defaultPolicies,
  governance,
  rateLimitPolicy,
  seededRandom,
  withPolicies,
} from "kratos-ts/governance";
import type { GovernanceStore } from "kratos-ts/governance";
import { createRedisClient } from "kratos-ts/ratelimit/redis";
import { createGrpcClient, createGrpcServer } from "kratos-ts/transport/grpc";
import type { GrpcServer } from "kratos-ts/transport/grpc";
import { createHttpClient, createHttpServer } from "kratos-ts/transport/http";
import type { HttpServer } from "kratos-ts/transport/http";
import {
  createGreeterHTTPClient,
  registerGreeterHTTPServer,
} from "../../api/helloworld/v1/greeter_http.js";
import type { GreeterHTTPServer } from "../../api/helloworld/v1/greeter_http.js";
import { Greeter } from "../../api/helloworld/v1/greeter_pb.js";
import type { HelloRequest } from "../../api/helloworld/v1/greeter_pb.js";
import { testMeters } from "../helpers/metric-reader.js";
import { redisSkip, startRedis } from "../helpers/redis.js";

const say = "/helloworld.v1.Greeter/SayHello";
const served = [say, "/helloworld.v1.Greeter/GetGreeting", "/helloworld.v1.Greeter/CreateGreeting"];
type Say = (req: HelloRequest, ctx: Context) => Promise<{ message?: string }>;
type Call = () => Promise<{ message: string }>;

/** Calls held in the handler until released, and a wait for `n` of them to be inside. */
function gate() {
  let inside = 0;
  const watchers: { n: number; resolve: () => void }[] = [];
  let release: () => void = () => undefined;
  let opened = new Promise<void>((r) => (release = r));
  return {
    async enter(): Promise<void> {
      inside++;
      for (const w of watchers.filter((w) => inside >= w.n)) w.resolve();
      await opened;
      inside--;
    },
    reached(n: number): Promise<void> {
      if (inside >= n) return Promise.resolve();
      return new Promise((resolve) => watchers.push({ n, resolve }));
    },
    open() {
      release();
    },
    reset() {
      opened = new Promise<void>((r) => (release = r));
    },
  };
}

/** A greeter on an HTTP and a gRPC server, governed by `store`; `behave` sets its handler. */
async function greeters(store: GovernanceStore) {
  let behave: Say = (req) => Promise.resolve({ message: `Hello ${req.name}` });
  const service: GreeterHTTPServer = {
    sayHello: (req, ctx) => behave(req, ctx),
    createGreeting: () => Promise.resolve({}),
    getGreeting: () => Promise.resolve({}),
  };
  const http = createHttpServer({
    addr: "127.0.0.1:0",
    middleware: [governance.server({ store })],
  });
  const rpc = createGrpcServer({ addr: "127.0.0.1:0", middleware: [governance.server({ store })] });
  registerGreeterHTTPServer(http, service);
  rpc.register(Greeter, service);
  await Promise.all([http.start(), rpc.start()]);
  return {
    http,
    rpc,
    set(fn: Say) {
      behave = fn;
    },
    stop: () => Promise.all([http.stop(), rpc.stop()]),
  };
}

/** An HTTP and a gRPC client of the servers, governed by `store` when given. */
function clientsOf(http: HttpServer, rpc: GrpcServer, store?: GovernanceStore) {
  const middleware = store === undefined ? [] : [governance.client({ store })];
  const h = createGreeterHTTPClient(
    createHttpClient({ endpoint: http.endpoint().href, middleware }),
  );
  const g = createGrpcClient(Greeter, { endpoint: rpc.endpoint().host, middleware });
  const list: [string, Call][] = [
    ["http", () => h.sayHello({ name: "x" })],
    ["grpc", () => g.sayHello({ name: "x" })],
  ];
  return {
    list,
    close: () => {
      g.close();
    },
  };
}

describe("resilience rules over HTTP and gRPC", () => {
  const meters = testMeters();
  const server = createGovernanceStore({
    operations: served,
    policies: defaultPolicies({ meterProvider: meters.meterProvider }),
    // Above every breaker odds of the test below, so a rejection is certain once it may happen.
    random: () => 0.5,
  });
  const client = createGovernanceStore({ random: seededRandom(7) });
  let svc: Awaited<ReturnType<typeof greeters>>;
  let clients: ReturnType<typeof clientsOf>;

  before(async () => {
    svc = await greeters(server);
    clients = clientsOf(svc.http, svc.rpc, client);
  });
  after(async () => {
    clients.close();
    await svc.stop();
    await server.close();
    await client.close();
  });
  beforeEach(() => {
    assert.ok(server.update(undefined));
    assert.ok(client.update(undefined));
    svc.set((req) => Promise.resolve({ message: `Hello ${req.name}` }));
  });

  it("a bulkhead rule rejects the call past max_concurrent with 429 BULKHEAD_FULL", async () => {
    for (const [kind, call] of clients.list) {
      // A new rule name per transport: fresh compartments.
      const rule = {
        name: `bh-${kind}`,
        match: { operations: [say] },
        bulkhead: { max_concurrent: 2 },
      };
      assert.ok(server.update({ rules: [rule] }));
      const g = gate();
      svc.set(async (req) => {
        await g.enter();
        return { message: `Hello ${req.name}` };
      });
      const running = [call(), call()];
      await g.reached(2);
      await assert.rejects(call(), { code: 429, reason: "BULKHEAD_FULL" }, kind);
      g.open();
      for (const r of await Promise.all(running)) assert.equal(r.message, "Hello x", kind);
      assert.equal((await call()).message, "Hello x", `${kind}: a slot is free again`);
    }
    assert.equal(
      await meters.value("server_bulkhead_rejected_total", { rule: "bh-http", operation: say }),
      1,
    );
  });

  it("a live edit of max_concurrent applies to new calls while calls in flight finish", async () => {
    for (const [kind, call] of clients.list) {
      const rule = (max: number) => ({
        rules: [{ name: `live-${kind}`, bulkhead: { max_concurrent: max } }],
      });
      assert.ok(server.update(rule(1)));
      const g = gate();
      svc.set(async (req) => {
        await g.enter();
        return { message: `Hello ${req.name}` };
      });
      const first = call();
      await g.reached(1);
      await assert.rejects(call(), { reason: "BULKHEAD_FULL" }, `${kind}: cap 1`);
      assert.ok(server.update(rule(2)));
      // The call in flight still holds its slot: one more fits under the new cap, not two.
      const second = call();
      await g.reached(2);
      await assert.rejects(call(), { reason: "BULKHEAD_FULL" }, `${kind}: cap 2`);
      g.open();
      assert.equal((await first).message, "Hello x", kind);
      assert.equal((await second).message, "Hello x", kind);
    }
  });

  it("a breaker rule opens on an operation that keeps failing", async () => {
    for (const [kind, call] of clients.list) {
      assert.ok(
        server.update({
          rules: [{ name: `br-${kind}`, breaker: { k: 1, min_requests: 4, window: "1m" } }],
        }),
      );
      let handled = 0;
      svc.set(() => {
        handled++;
        return Promise.reject(new KratosError(500, "BROKEN", "backend down"));
      });
      let rejected: unknown;
      for (let i = 0; i < 10 && rejected === undefined; i++) {
        try {
          await call();
        } catch (err) {
          if (err instanceof KratosError && err.reason === "CIRCUITBREAKER") rejected = err;
          else assert.equal((err as KratosError).reason, "BROKEN", kind);
        }
      }
      assert.ok(rejected instanceof KratosError, `${kind}: the breaker opened`);
      assert.equal(rejected.code, 503, kind);
      // After 4 failures the odds are 4/5 > 0.5: the fifth call is the first rejected.
      assert.equal(handled, 4, kind);
    }
    assert.equal(await meters.value("server_breaker_rejected_total", { rule: "br-grpc" }), 1);
  });

  it("a retry rule on the client recovers a flaky server", async () => {
    for (const [kind, call] of clients.list) {
      assert.ok(
        client.update({
          rules: [
            {
              name: "retry-flaky",
              match: { side: "client", operations: [say] },
              retry: {
                attempts: 3,
                codes: ["UNAVAILABLE"],
                backoff: { base: 0, max: 0 },
                non_idempotent: true,
              },
            },
          ],
        }),
      );
      let handled = 0;
      svc.set((req) => {
        handled++;
        if (handled < 3) return Promise.reject(new KratosError(503, "FLAKY", "try again"));
        return Promise.resolve({ message: `Hello ${req.name}` });
      });
      assert.equal((await call()).message, "Hello x", kind);
      assert.equal(handled, 3, kind);
      // Without the rule the first failure is the answer.
      assert.ok(client.update(undefined));
      handled = 0;
      await assert.rejects(call(), { code: 503, reason: "FLAKY" }, kind);
    }
  });

  it("a rateLimit rule rejects calls over the limit with 429 RATE_LIMITED", async () => {
    for (const [kind, call] of clients.list) {
      assert.ok(
        server.update({
          rules: [
            {
              name: `rl-${kind}`,
              rate_limit: { kind: "fixed_period", limit: 2, period: "1h", key: "constant" },
            },
          ],
        }),
      );
      await call();
      await call();
      await assert.rejects(call(), { code: 429, reason: "RATE_LIMITED" }, kind);
    }
    assert.equal(
      await meters.value("server_rate_limited_total", { rule: "rl-http", operation: say }),
      1,
    );
  });
});

describe("a Redis rateLimit rule", { skip: redisSkip() }, () => {
  it("shares one limit across two stores", async () => {
    const redis = await startRedis();
    // Generous timeouts: a busy machine must not send a call to the local fallback, which would
    // admit past the shared limit (the fallback itself is the Redis limiter tests' business).
    const redisClients = [0, 1].map(() =>
      createRedisClient({ url: redis.url, commandTimeout: 5000 }),
    );
    for (const c of redisClients) if (c.status !== "ready") await once(c, "ready");
    const rules = {
      rules: [
        {
          name: "shared",
          rate_limit: {
            kind: "fixed_period",
            limit: 3,
            period: "1h",
            key: "constant",
            redis: true,
          },
        },
      ],
    };
    const stores = redisClients.map((c) =>
      createGovernanceStore({
        operations: served,
        policies: withPolicies(
          defaultPolicies(),
          rateLimitPolicy({ redis: c, redisTimeout: 5000 }),
        ),
        rules,
      }),
    );
    const services = await Promise.all(stores.map((s) => greeters(s)));
    const both = services.map((s) => clientsOf(s.http, s.rpc));
    try {
      let admitted = 0;
      let limited = 0;
      for (let i = 0; i < 4; i++) {
        for (const c of both) {
          for (const [, call] of c.list) {
            try {
              await call();
              admitted++;
            } catch (err) {
              assert.equal((err as KratosError).reason, "RATE_LIMITED");
              limited++;
            }
          }
        }
      }
      assert.equal(admitted, 3, "one limit of 3 for both stores");
      assert.equal(limited, 13);
    } finally {
      for (const c of both) c.close();
      await Promise.all(services.map((s) => s.stop()));
      await Promise.all(stores.map((s) => s.close()));
      await Promise.all(redisClients.map((c) => c.quit()));
      await redis.close();
    }
  });

  it("is refused without a Redis client", () => {
    const lines = createGovernanceStore().check({
      rules: [{ name: "r", rate_limit: { rate: 1, redis: true } }],
    });
    assert.equal(lines.length, 1);
    assert.match(lines[0] ?? "", /^governance\.rules\.0\.rateLimit\.redis: no Redis client/);
  });
});
