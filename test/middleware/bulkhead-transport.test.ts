// The bulkhead and the server circuit breaker over real sockets, on both transports.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { internalServer } from "kratos-ts/errors";
import type { Middleware } from "kratos-ts/middleware";
import { createGrpcClient, createGrpcServer } from "kratos-ts/transport/grpc";
import type { GrpcServer } from "kratos-ts/transport/grpc";
import { createHttpClient, createHttpServer } from "kratos-ts/transport/http";
import type { HttpServer } from "kratos-ts/transport/http";
import { bulkhead, createBulkheadState } from "../../src/middleware/bulkhead.js";
import { circuitBreaker } from "../../src/middleware/circuitbreaker.js";
import { BookstoreGetShelfHTTPRoutes } from "../fixtures/http/gen/bookstore/v1/bookstore_http.js";
import { EchoService } from "../fixtures/http/gen/echo/v1/echo_pb.js";
import { outcome } from "../helpers/outcome.js";

/** The handler behind both transports: `id` names the call. */
type Handle = (id: string) => Promise<void>;

interface Transport {
  operation: string;
  start(middleware: Middleware[], handle: Handle): Promise<HttpServer | GrpcServer>;
  client(endpoint: string): { call(id: string): Promise<unknown>; close(): void };
}

const http: Transport = {
  operation: BookstoreGetShelfHTTPRoutes[0].operation,
  async start(middleware, handle) {
    const server = createHttpServer({ addr: "127.0.0.1:0", middleware });
    server.route({
      ...BookstoreGetShelfHTTPRoutes[0],
      handler: (req) => handle(String(req.shelfId)).then(() => ({ id: req.shelfId })),
    });
    await server.start();
    return server;
  },
  client(endpoint) {
    const client = createHttpClient({ endpoint });
    return {
      call: (id) => client.invoke(BookstoreGetShelfHTTPRoutes[0], { shelfId: BigInt(id) }),
      close: () => {
        client.close();
      },
    };
  },
};

const grpc: Transport = {
  operation: "/echo.v1.EchoService/Say",
  async start(middleware, handle) {
    const server = createGrpcServer({ addr: "127.0.0.1:0", middleware });
    server.register(EchoService, {
      say: (req) => handle(req.sentence).then(() => ({ sentence: req.sentence })),
    });
    await server.start();
    return server;
  },
  client(endpoint) {
    const client = createGrpcClient(EchoService, { endpoint });
    return {
      call: (id) => client.say({ sentence: id }),
      close: () => {
        client.close();
      },
    };
  },
};

/** Resolves once `cond` holds, checking after each turn of the event loop. */
async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((resolve) => setImmediate(resolve));
}

for (const [name, transport] of [
  ["HTTP", http],
  ["gRPC", grpc],
] as const) {
  describe(`bulkhead over ${name}`, () => {
    it("admits queued calls in order and rejects past the queue with 429 BULKHEAD_FULL", async () => {
      const state = createBulkheadState();
      const started: string[] = [];
      const gates = new Map<string, () => void>();
      const handle: Handle = (id) => {
        started.push(id);
        return new Promise((resolve) => gates.set(id, resolve));
      };
      const server = await transport.start(
        [bulkhead.server({ maxConcurrent: 1, maxQueue: 2, maxWait: 60_000 }, { state })],
        handle,
      );
      const client = transport.client(server.endpoint().href);
      const op = transport.operation;
      try {
        const calls = [outcome(client.call("1"))];
        await until(() => started.length === 1);
        calls.push(outcome(client.call("2")));
        await until(() => state.queued(op) === 1);
        calls.push(outcome(client.call("3")));
        await until(() => state.queued(op) === 2);
        // On gRPC the 429 travels as RESOURCE_EXHAUSTED and comes back as 429.
        assert.equal(await outcome(client.call("4")), "429 BULKHEAD_FULL");
        for (const id of ["1", "2", "3"]) {
          await until(() => started.includes(id));
          gates.get(id)?.();
        }
        assert.deepEqual(await Promise.all(calls), ["200", "200", "200"]);
        assert.deepEqual(started, ["1", "2", "3"]);
      } finally {
        client.close();
        await server.stop();
      }
    });
  });

  describe(`server circuit breaker over ${name}`, () => {
    it("opens after a burst of 5xx and answers 503 without calling the handler", async () => {
      let hits = 0;
      const handle: Handle = () => {
        hits++;
        return Promise.reject(internalServer("DB", "the database is down"));
      };
      const breaker = circuitBreaker.server({ minRequests: 10 }, { now: () => 0, random: () => 0 });
      const server = await transport.start([breaker], handle);
      const client = transport.client(server.endpoint().href);
      try {
        for (let i = 0; i < 10; i++) assert.equal(await outcome(client.call("1")), "500 DB");
        for (let i = 0; i < 5; i++) {
          assert.equal(await outcome(client.call("1")), "503 CIRCUITBREAKER");
        }
        assert.equal(hits, 10);
      } finally {
        client.close();
        await server.stop();
      }
    });
  });
}
