import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { KratosError } from "kratos-ts/errors";
import { appendClientMetadata, serverMetadata } from "kratos-ts/metadata";
import { metadata } from "kratos-ts/middleware";
import type { Middleware } from "kratos-ts/middleware";
import { clientTransport, serverTransport } from "kratos-ts/transport";
import { createGrpcClient, createGrpcServer } from "kratos-ts/transport/grpc";
import type { GrpcServer } from "kratos-ts/transport/grpc";
import { EchoService } from "../../fixtures/http/gen/echo/v1/echo_pb.js";

function echoServer(name: string, extra: Middleware[] = []): GrpcServer {
  const server = createGrpcServer({
    addr: "127.0.0.1:0",
    middleware: [metadata.server(), ...extra],
  });
  server.register(EchoService, {
    say(req, ctx) {
      const headers: Record<string, string> = { server: name };
      for (const [k, v] of serverMetadata(ctx)?.entries() ?? []) headers[k] = v.join(",");
      return Promise.resolve({ sentence: req.sentence, headers });
    },
    fail(req) {
      return Promise.reject(
        new KratosError(req.code, req.reason, req.message, { metadata: req.metadata }),
      );
    },
    slow(_req, ctx) {
      return new Promise((_resolve, reject) => {
        ctx.signal.addEventListener("abort", () => {
          reject(ctx.signal.reason);
        });
      });
    },
    async *count(req) {
      for (let i = 1; i <= req.upTo; i++) yield { number: i };
    },
    async sum(reqs) {
      let total = 0n;
      for await (const r of reqs) total += r.value;
      return { total };
    },
    async *chat(reqs) {
      for await (const r of reqs) yield { text: r.text.toUpperCase() };
    },
  });
  return server;
}

describe("gRPC client", () => {
  let a: GrpcServer;
  let b: GrpcServer;
  before(async () => {
    a = echoServer("a");
    b = echoServer("b");
    await Promise.all([a.start(), b.start()]);
  });
  after(async () => {
    await Promise.all([a.stop(), b.stop()]);
  });

  for (const protocol of ["grpc", "connect", "grpc-web"] as const) {
    it(`${protocol}: every method kind and the typed error`, async () => {
      const client = createGrpcClient(EchoService, { endpoint: a.endpoint().href, protocol });
      try {
        assert.equal((await client.say({ sentence: "hi" })).sentence, "hi");
        const numbers: number[] = [];
        for await (const m of client.count({ upTo: 3 })) numbers.push(m.number);
        assert.deepEqual(numbers, [1, 2, 3]);
        if (protocol !== "grpc-web") {
          async function* values() {
            yield { value: 2n };
            yield { value: 3n };
          }
          assert.equal((await client.sum(values())).total, 5n);
          async function* texts() {
            yield { text: "a" };
            yield { text: "b" };
          }
          const out: string[] = [];
          for await (const m of client.chat(texts())) out.push(m.text);
          assert.deepEqual(out, ["A", "B"]);
        }
        await assert.rejects(
          client.fail({
            code: 422,
            reason: "UNPROCESSABLE",
            message: "nope",
            metadata: { k: "v" },
          }),
          (err: unknown) => {
            assert.ok(err instanceof KratosError);
            assert.deepEqual(err.toStatus(), {
              code: 422,
              reason: "UNPROCESSABLE",
              message: "nope",
              metadata: { k: "v" },
            });
            return true;
          },
        );
      } finally {
        client.close();
      }
    });
  }

  it("sends the deadline as grpc-timeout and fails with 504", async () => {
    const client = createGrpcClient(EchoService, { endpoint: a.endpoint().host, timeout: 50 });
    try {
      await assert.rejects(
        client.slow({}),
        (err: unknown) => err instanceof KratosError && err.code === 504,
      );
    } finally {
      client.close();
    }
  });

  it("balances direct:/// endpoints (wrr, equal weights) and runs client middleware", async () => {
    const operations: string[] = [];
    const mw: Middleware = (next) => (ctx, req) => {
      operations.push(clientTransport(ctx)?.operation ?? "");
      return next(ctx, req);
    };
    const client = createGrpcClient(EchoService, {
      endpoint: `direct:///${a.endpoint().host},${b.endpoint().host}`,
      middleware: [mw],
      selector: { balancer: "wrr" },
    });
    try {
      const servers: string[] = [];
      for (let i = 0; i < 4; i++)
        servers.push((await client.say({ sentence: "x" })).headers.server ?? "");
      assert.deepEqual(servers, ["a", "b", "a", "b"]);
      assert.deepEqual(new Set(operations), new Set(["/echo.v1.EchoService/Say"]));
    } finally {
      client.close();
    }
  });

  it("answers 503 when no server listens", async () => {
    const client = createGrpcClient(EchoService, { endpoint: "127.0.0.1:1" });
    try {
      await assert.rejects(
        client.say({}),
        (err: unknown) => err instanceof KratosError && err.code === 503,
      );
    } finally {
      client.close();
    }
  });

  it("rejects endpoints it cannot use", () => {
    assert.throws(
      () => createGrpcClient(EchoService, { endpoint: "discovery:///echo" }),
      /needs a resolver/,
    );
    assert.throws(
      () => createGrpcClient(EchoService, { endpoint: "ftp://x:1" }),
      /unsupported scheme/,
    );
  });
});

describe("metadata propagation", () => {
  it("forwards x-md-global- entries across hops, and client metadata to the next hop only", async () => {
    const downstream = echoServer("down");
    await downstream.start();
    const downClient = createGrpcClient(EchoService, {
      endpoint: downstream.endpoint().host,
      middleware: [metadata.client()],
    });
    // The middle service calls downstream with its own context.
    const middle = createGrpcServer({ addr: "127.0.0.1:0", middleware: [metadata.server()] });
    middle.register(EchoService, {
      async say(req, ctx) {
        appendClientMetadata(ctx, { "x-md-hop": "middle" });
        return downClient.say(req, { context: ctx });
      },
    });
    await middle.start();
    const edge = createGrpcClient(EchoService, { endpoint: middle.endpoint().host });
    try {
      const reply = await edge.say(
        { sentence: "x" },
        { headers: { "x-md-global-tenant": "t1", "x-md-local": "edge-only", "x-other": "no" } },
      );
      assert.equal(reply.headers.server, "down");
      assert.equal(reply.headers["x-md-global-tenant"], "t1");
      assert.equal(reply.headers["x-md-hop"], "middle");
      assert.equal(reply.headers["x-md-local"], undefined);
      assert.equal(reply.headers["x-other"], undefined);
    } finally {
      edge.close();
      downClient.close();
      await Promise.all([middle.stop(), downstream.stop()]);
    }
  });

  it("lets server middleware read metadata on HTTP too", async () => {
    const seen: string[] = [];
    const server = createGrpcServer({
      addr: "127.0.0.1:0",
      middleware: [
        metadata.server({ constants: { "x-md-service": "echo" } }),
        (next) => (ctx, req) => {
          seen.push(
            `${serverTransport(ctx)?.kind ?? ""}:${serverMetadata(ctx)?.get("x-md-service") ?? ""}`,
          );
          return next(ctx, req);
        },
      ],
    });
    server.register(EchoService, { say: (req) => Promise.resolve({ sentence: req.sentence }) });
    await server.start();
    const client = createGrpcClient(EchoService, { endpoint: server.endpoint().host });
    try {
      await client.say({});
      assert.deepEqual(seen, ["grpc:echo"]);
    } finally {
      client.close();
      await server.stop();
    }
  });
});
