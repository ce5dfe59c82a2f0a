// Fault injection over real sockets: the server-side middleware on an HTTP and a gRPC server,
// and the client-side middleware on the HTTP and gRPC clients, for delays and aborts.
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { createGovernanceStore, governance } from "kratos-ts/governance";
import type { Context } from "kratos-ts/context";
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

const say = "/helloworld.v1.Greeter/SayHello";

describe("governance faults over HTTP and gRPC", () => {
  const server = createGovernanceStore({
    operations: [
      say,
      "/helloworld.v1.Greeter/GetGreeting",
      "/helloworld.v1.Greeter/CreateGreeting",
    ],
  });
  const client = createGovernanceStore();
  let handled = 0;
  const service: GreeterHTTPServer = {
    sayHello(req: HelloRequest, _ctx: Context) {
      handled++;
      return Promise.resolve({ message: `Hello ${req.name}` });
    },
    createGreeting: () => Promise.resolve({}),
    getGreeting: () => Promise.resolve({}),
  };
  let http: HttpServer;
  let rpc: GrpcServer;
  const clients = () => {
    const middleware = [governance.client({ store: client })];
    const h = createGreeterHTTPClient(
      createHttpClient({ endpoint: http.endpoint().href, middleware }),
    );
    const g = createGrpcClient(Greeter, { endpoint: rpc.endpoint().host, middleware });
    return [
      [
        "http",
        (headers: Record<string, string> = {}, timeoutMs?: number) =>
          h.sayHello({ name: "x" }, { headers, timeoutMs }),
        () => undefined,
      ],
      [
        "grpc",
        (headers: Record<string, string> = {}, timeoutMs?: number) =>
          g.sayHello({ name: "x" }, { headers, timeoutMs }),
        () => {
          g.close();
        },
      ],
    ] as const;
  };

  before(async () => {
    http = createHttpServer({
      addr: "127.0.0.1:0",
      middleware: [governance.server({ store: server })],
    });
    rpc = createGrpcServer({
      addr: "127.0.0.1:0",
      middleware: [governance.server({ store: server })],
    });
    registerGreeterHTTPServer(http, service);
    rpc.register(Greeter, service);
    await Promise.all([http.start(), rpc.start()]);
  });

  after(async () => {
    await Promise.all([http.stop(), rpc.stop()]);
  });

  beforeEach(() => {
    assert.ok(server.update(undefined));
    assert.ok(client.update(undefined));
  });

  it("aborts on the server with an HTTP code or a gRPC code name", async () => {
    for (const [code, expected] of [
      [503, 503],
      ["RESOURCE_EXHAUSTED", 429],
      ["PERMISSION_DENIED", 403],
    ] as const) {
      assert.ok(
        server.update({
          rules: [
            {
              name: "drill",
              match: { operations: [say] },
              fault: { abort: { code, reason: "DRILL" } },
            },
          ],
        }),
      );
      for (const [kind, call, close] of clients()) {
        const before = handled;
        await assert.rejects(call(), { code: expected, reason: "DRILL" }, `${kind} ${code}`);
        assert.equal(handled, before, `${kind}: the handler did not run`);
        close();
      }
    }
  });

  it("aborts on the server only for calls whose headers match", async () => {
    assert.ok(
      server.update({
        rules: [
          {
            name: "beta",
            match: { headers: { "x-md-user": "beta" } },
            fault: { abort: { code: 503 } },
          },
        ],
      }),
    );
    for (const [kind, call, close] of clients()) {
      await assert.rejects(call({ "x-md-user": "beta" }), { code: 503 }, kind);
      assert.deepEqual((await call({ "x-md-user": "alpha" })).message, "Hello x", kind);
      close();
    }
  });

  it("delays on the server until the client's deadline, answered 504", async () => {
    assert.ok(server.update({ rules: [{ name: "slow", fault: { delay: { duration: "10m" } } }] }));
    for (const [kind, call, close] of clients()) {
      await assert.rejects(call({}, 100), { code: 504 }, kind);
      close();
    }
  });

  it("delays on the server, then serves", async () => {
    assert.ok(server.update({ rules: [{ name: "slow", fault: { delay: { duration: "20ms" } } }] }));
    for (const [kind, call, close] of clients()) {
      const start = performance.now();
      assert.equal((await call()).message, "Hello x", kind);
      assert.ok(performance.now() - start >= 19, kind);
      close();
    }
  });

  it("aborts on the client before anything is sent", async () => {
    assert.ok(
      client.update({
        rules: [
          {
            name: "local",
            match: { side: "client", operations: [say] },
            fault: { abort: { code: "UNAVAILABLE" } },
          },
        ],
      }),
    );
    for (const [kind, call, close] of clients()) {
      const before = handled;
      await assert.rejects(call(), { code: 503, reason: "FAULT_INJECTED" }, kind);
      assert.equal(handled, before, kind);
      close();
    }
  });

  it("delays on the client within its own deadline", async () => {
    assert.ok(
      client.update({
        rules: [{ name: "slow", match: { side: "client" }, fault: { delay: { duration: "10m" } } }],
      }),
    );
    for (const [kind, call, close] of clients()) {
      const before = handled;
      await assert.rejects(call({}, 50), { code: 504 }, kind);
      assert.equal(handled, before, kind);
      close();
    }
  });
});
