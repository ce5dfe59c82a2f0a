// Retries over real sockets, on both transports: a flaky server recovers, the budget stops an
// outage from multiplying, a call that may have run is not sent twice, the deadline is kept,
// and a retry after a 503 moves to the other node of a direct:/// endpoint.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Context } from "kratos-ts/context";
import { serviceUnavailable } from "kratos-ts/errors";
import type { Middleware } from "kratos-ts/middleware";
import { clientTransport, serverTransport } from "kratos-ts/transport";
import { createGrpcClient, createGrpcServer } from "kratos-ts/transport/grpc";
import { createHttpClient, createHttpServer } from "kratos-ts/transport/http";
import type { HttpServer } from "kratos-ts/transport/http";
import type { GrpcServer } from "kratos-ts/transport/grpc";
import { retry } from "../../src/middleware/retry.js";
import type { RetryOptions, RetryRuntime } from "../../src/middleware/retry.js";
import {
  BookstoreCreateBookHTTPRoutes,
  BookstoreGetShelfHTTPRoutes,
} from "../fixtures/http/gen/bookstore/v1/bookstore_http.js";
import { EchoService } from "../fixtures/http/gen/echo/v1/echo_pb.js";
import { testMeters } from "../helpers/metric-reader.js";
import { outcome } from "../helpers/outcome.js";

/** A backend that fails its next `failures` calls with 503, counting every call. */
interface Backend {
  failures: number;
  hits: number;
}

/** Counts the call and answers per `backend`; the reply header `x-attempt` numbers the call. */
function answer(backend: Backend, ctx: Context): Promise<void> {
  backend.hits++;
  serverTransport(ctx)?.replyHeader.set("x-attempt", String(backend.hits));
  if (backend.failures > 0) {
    backend.failures--;
    return Promise.reject(serviceUnavailable("DOWN", "down for now"));
  }
  return Promise.resolve();
}

/** No waiting between attempts, a clock that stands still (the budget's window never moves). */
const quick: RetryRuntime = { sleep: () => Promise.resolve(), now: () => Date.now() };

interface Transport {
  /** Starts a server over `backend`; the caller stops it. */
  server(backend: Backend): Promise<HttpServer | GrpcServer>;
  /** An idempotent call (HTTP GET; gRPC marked idempotent) and a non-idempotent one. */
  client(
    endpoint: string,
    middleware: Middleware[],
    timeoutMs?: number,
  ): { get(): Promise<unknown>; post(): Promise<unknown>; close(): void };
}

const http: Transport = {
  async server(backend) {
    const server = createHttpServer({ addr: "127.0.0.1:0" });
    server.route({
      ...BookstoreGetShelfHTTPRoutes[0],
      handler: (req, ctx) => answer(backend, ctx).then(() => ({ id: req.shelfId })),
    });
    server.route({
      ...BookstoreCreateBookHTTPRoutes[0],
      handler: (_req, ctx) => answer(backend, ctx).then(() => ({})),
    });
    await server.start();
    return server;
  },
  client(endpoint, middleware, timeoutMs) {
    const client = createHttpClient({
      endpoint,
      middleware,
      selector: { balancer: "random" },
      ...(timeoutMs === undefined ? {} : { timeout: timeoutMs }),
    });
    return {
      get: () => client.invoke(BookstoreGetShelfHTTPRoutes[0], { shelfId: 1n }),
      post: () => client.invoke(BookstoreCreateBookHTTPRoutes[0], { shelfId: 1n, book: {} }),
      close: () => {
        client.close();
      },
    };
  },
};

const grpc: Transport = {
  async server(backend) {
    const server = createGrpcServer({ addr: "127.0.0.1:0" });
    server.register(EchoService, {
      say: (req, ctx) => answer(backend, ctx).then(() => ({ sentence: req.sentence })),
    });
    await server.start();
    return server;
  },
  client(endpoint, middleware, timeoutMs) {
    const client = createGrpcClient(EchoService, {
      endpoint,
      middleware,
      selector: { balancer: "random" },
      ...(timeoutMs === undefined ? {} : { timeout: timeoutMs }),
    });
    return {
      // Say declares no idempotency_level: the caller marks it.
      get: () => client.say({ sentence: "hi" }, { idempotent: true }),
      post: () => client.say({ sentence: "hi" }),
      close: () => {
        client.close();
      },
    };
  },
};

async function withBackend(
  transport: Transport,
  options: RetryOptions,
  runtime: RetryRuntime,
  body: (backend: Backend, client: ReturnType<Transport["client"]>) => Promise<void>,
  timeoutMs?: number,
): Promise<void> {
  const backend: Backend = { failures: 0, hits: 0 };
  const server = await transport.server(backend);
  const client = transport.client(
    server.endpoint().href,
    [retry.client(options, runtime)],
    timeoutMs,
  );
  try {
    await body(backend, client);
  } finally {
    client.close();
    await server.stop();
  }
}

for (const [name, transport] of [
  ["HTTP", http],
  ["gRPC", grpc],
] as const) {
  describe(`retry over ${name}`, () => {
    it("recovers from a flaky server and counts the retries", async () => {
      const meters = testMeters();
      await withBackend(
        transport,
        { name: "flaky" },
        { ...quick, meterProvider: meters.meterProvider },
        async (backend, client) => {
          backend.failures = 2;
          assert.equal(await outcome(client.get()), "200");
          assert.equal(backend.hits, 3);
          assert.equal(await meters.value("client_retries_total", { rule: "flaky" }), 2);
        },
      );
    });

    it("leaves the reply headers of the attempt that answered, not of every attempt", async () => {
      const backend: Backend = { failures: 2, hits: 0 };
      const server = await transport.server(backend);
      let seen: string[] = [];
      const readReply: Middleware = (next) => async (ctx, req) => {
        const reply = await next(ctx, req);
        seen = clientTransport(ctx)?.replyHeader.values("x-attempt") ?? [];
        return reply;
      };
      const client = transport.client(server.endpoint().href, [readReply, retry.client({}, quick)]);
      try {
        assert.equal(await outcome(client.get()), "200");
        assert.deepEqual(seen, ["3"]);
      } finally {
        client.close();
        await server.stop();
      }
    });

    it("stops at the budget while the server is down", async () => {
      await withBackend(
        transport,
        { attempts: 5, budget: { ratio: 0.2, minPerSecond: 0 } },
        quick,
        async (backend, client) => {
          backend.failures = Infinity;
          for (let i = 0; i < 20; i++) assert.equal(await outcome(client.get()), "503 DOWN");
          // 20 calls may add 0.2 x 20 = 4 retries in all, not 4 each.
          assert.equal(backend.hits, 24);
        },
      );
    });

    it("does not send a non-idempotent call again once it reached the server", async () => {
      await withBackend(transport, {}, quick, async (backend, client) => {
        backend.failures = 1;
        assert.equal(await outcome(client.post()), "503 DOWN");
        assert.equal(backend.hits, 1);
      });
      await withBackend(transport, { nonIdempotent: true }, quick, async (backend, client) => {
        backend.failures = 1;
        assert.equal(await outcome(client.post()), "200");
        assert.equal(backend.hits, 2);
      });
    });

    it("does not retry when the backoff would end past the deadline", async () => {
      // random 0.999 with base 1 s: a first wait of ~1 s, past the 300 ms deadline.
      const options: RetryOptions = { backoff: { base: 1_000, max: 1_000 } };
      const runtime: RetryRuntime = { random: () => 0.999 };
      await withBackend(
        transport,
        options,
        runtime,
        async (backend, client) => {
          backend.failures = Infinity;
          const start = performance.now();
          assert.equal(await outcome(client.get()), "503 DOWN");
          assert.equal(backend.hits, 1);
          assert.ok(performance.now() - start < 1_000, "it did not sleep");
        },
        300,
      );
    });

    it("a retry after a 503 goes to the other node of direct:///", async () => {
      const sick: Backend = { failures: Infinity, hits: 0 };
      const well: Backend = { failures: 0, hits: 0 };
      const a = await transport.server(sick);
      const b = await transport.server(well);
      const endpoint = `direct:///${a.endpoint().host},${b.endpoint().host}`;
      const client = transport.client(endpoint, [retry.client({ attempts: 2 }, quick)]);
      try {
        // A random balancer would send half the retries back to the sick node.
        for (let i = 0; i < 20; i++) assert.equal(await outcome(client.get()), "200");
        assert.ok(sick.hits > 0, "the sick node was never picked");
        assert.equal(well.hits, 20);
      } finally {
        client.close();
        await a.stop();
        await b.stop();
      }
    });
  });
}
