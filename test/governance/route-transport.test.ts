// Route rules over real sockets, on the HTTP and the gRPC client: three instances (versions v1,
// v1, v2; the v2 one tagged env=canary) behind `discovery:///greeter`, each serving HTTP and
// gRPC and answering with its id. A header rule sends every beta call to v2; a 90/10 rule sends
// exactly the calls the seeded generator picks to v2; a destination with no instance falls
// back to the next one, or fails with 503 NODE_NOT_FOUND.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Context } from "kratos-ts/context";
import { createGovernanceStore, governance, seededRandom } from "kratos-ts/governance";
import type { GovernanceStore } from "kratos-ts/governance";
import type { ServiceInstance } from "kratos-ts/registry";
import { nodesFromInstances } from "kratos-ts/selector";
import type { Resolver } from "kratos-ts/transport";
import { createGrpcClient, createGrpcServer } from "kratos-ts/transport/grpc";
import type { GrpcServer } from "kratos-ts/transport/grpc";
import { createHttpClient, createHttpServer } from "kratos-ts/transport/http";
import type { HttpServer } from "kratos-ts/transport/http";
import {
  createGreeterHTTPClient,
  registerGreeterHTTPServer,
} from "../../api/helloworld/v1/greeter_http.js";
import { Greeter } from "../../api/helloworld/v1/greeter_pb.js";

const instances: { id: string; version: string; metadata: Record<string, string> }[] = [
  { id: "v1-a", version: "v1", metadata: {} },
  { id: "v1-b", version: "v1", metadata: {} },
  { id: "v2-a", version: "v2", metadata: { env: "canary" } },
];

type Call = (headers?: Record<string, string>) => Promise<string>;

describe("route rules over HTTP and gRPC", () => {
  const servers: (HttpServer | GrpcServer)[] = [];
  let registered: ServiceInstance[] = [];

  before(async () => {
    registered = await Promise.all(
      instances.map(async ({ id, version, metadata }) => {
        const service = {
          sayHello: (_req: unknown, _ctx: Context) => Promise.resolve({ message: id }),
          createGreeting: () => Promise.resolve({}),
          getGreeting: () => Promise.resolve({}),
        };
        const http = createHttpServer({ addr: "127.0.0.1:0" });
        const rpc = createGrpcServer({ addr: "127.0.0.1:0" });
        registerGreeterHTTPServer(http, service);
        rpc.register(Greeter, service);
        await Promise.all([http.start(), rpc.start()]);
        servers.push(http, rpc);
        const endpoints = [http.endpoint().origin, `grpc://${rpc.endpoint().host}`];
        return { id, name: "greeter", version, metadata, endpoints };
      }),
    );
  });

  after(async () => {
    await Promise.all(servers.map((s) => s.stop()));
  });

  /** The clients of both transports on `discovery:///greeter`, governed by `store`. */
  function clients(store: GovernanceStore, only = registered): [string, Call, () => void][] {
    const resolver = (scheme: string): Resolver => {
      const nodes = Object.freeze(nodesFromInstances(only, scheme));
      return { resolve: () => Promise.resolve(nodes) };
    };
    const middleware = [governance.client({ store })];
    const endpoint = "discovery:///greeter";
    const h = createGreeterHTTPClient(
      createHttpClient({ endpoint, resolver: resolver("http"), middleware }),
    );
    const g = createGrpcClient(Greeter, { endpoint, resolver: resolver("grpc"), middleware });
    return [
      [
        "http",
        async (headers = {}) => (await h.sayHello({ name: "x" }, { headers })).message,
        () => undefined,
      ],
      [
        "grpc",
        async (headers = {}) => (await g.sayHello({ name: "x" }, { headers })).message,
        () => {
          g.close();
        },
      ],
    ];
  }

  it("sends every call of x-md-user: beta to v2, the others as before", async () => {
    const store = createGovernanceStore({
      rules: {
        rules: [
          {
            name: "beta",
            match: { side: "client", headers: { "x-md-user": "beta" } },
            route: { destinations: [{ version: "v2" }] },
          },
        ],
      },
    });
    for (const [kind, call, close] of clients(store)) {
      const beta = new Set<string>();
      const others = new Set<string>();
      for (let i = 0; i < 60; i++) {
        beta.add(await call({ "x-md-user": "beta" }));
        others.add(await call({ "x-md-user": "alpha" }));
      }
      assert.deepEqual([...beta], ["v2-a"], kind);
      // The others are balanced over all three as before (p2c: not in fixed shares).
      assert.ok(
        [...others].some((id) => id.startsWith("v1-")),
        `${kind}: ${[...others].join()}`,
      );
      close();
    }
  });

  it("splits 90/10: exactly the calls the seeded generator picks go to v2", async () => {
    for (const kind of ["http", "grpc"]) {
      // A store per transport, so that each sees the generator from its start.
      const store = createGovernanceStore({
        random: seededRandom(23),
        rules: {
          rules: [
            {
              name: "canary",
              route: {
                destinations: [
                  { version: "v1", weight: 90 },
                  { metadata: { env: "canary" }, weight: 10 },
                ],
              },
            },
          ],
        },
      });
      const both = clients(store);
      const [, governed] = both.find(([k]) => k === kind) ?? assert.fail(kind);
      const twin = seededRandom(23);
      let expected = 0;
      let v2 = 0;
      for (let i = 0; i < 400; i++) {
        if (twin() * 100 >= 90) expected++;
        if ((await governed()) === "v2-a") v2++;
      }
      assert.equal(v2, expected, kind);
      assert.ok(v2 >= 20 && v2 <= 60, `${kind}: ${v2} of 400 to v2`);
      for (const [, , close] of both) close();
    }
  });

  it("falls back to the next destination, or fails with 503 NODE_NOT_FOUND", async () => {
    const rules = (fallback: string) => ({
      rules: [
        {
          name: "v2-only",
          route: {
            destinations: [
              { version: "v2", weight: 1 },
              { version: "v1", weight: 0 },
            ],
            fallback,
          },
        },
      ],
    });
    const v1Only = registered.filter((r) => r.version === "v1");
    const next = createGovernanceStore({ rules: rules("next") });
    for (const [kind, call, close] of clients(next, v1Only)) {
      const seen = new Set<string>();
      for (let i = 0; i < 20; i++) seen.add(await call());
      assert.deepEqual([...seen].sort(), ["v1-a", "v1-b"], kind);
      close();
    }
    for (const [kind, call, close] of clients(next)) {
      assert.equal(await call(), "v2-a", `${kind}: v2 while it is there`);
      close();
    }
    const fail = createGovernanceStore({ rules: rules("fail") });
    for (const [kind, call, close] of clients(fail, v1Only)) {
      await assert.rejects(call(), { code: 503, reason: "NODE_NOT_FOUND" }, kind);
      close();
    }
  });
});
