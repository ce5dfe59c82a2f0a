import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { serviceUnavailable } from "kratos-ts/errors";
import { createGrpcClient, createGrpcServer } from "kratos-ts/transport/grpc";
import { createHttpClient, createHttpServer } from "kratos-ts/transport/http";
import { circuitBreaker } from "../../src/middleware/circuitbreaker.js";
import type { CircuitBreakerClientOptions } from "../../src/middleware/circuitbreaker.js";
import { BookstoreGetShelfHTTPRoutes } from "../fixtures/http/gen/bookstore/v1/bookstore_http.js";
import { EchoService } from "../fixtures/http/gen/echo/v1/echo_pb.js";
import { outcome } from "../helpers/outcome.js";

const window = 1_000;
const minRequests = 10;

/** A breaker on a clock the test moves, with random() = 0: every positive odds rejects. */
function breakerOptions(): CircuitBreakerClientOptions & { advance: (ms: number) => void } {
  let t = 0;
  return {
    window,
    minRequests,
    now: () => t,
    random: () => 0,
    advance: (ms) => {
      t += ms;
    },
  };
}

/** A backend that answers 503 while `failing` is set, counting the calls it sees. */
interface Backend {
  failing: boolean;
  hits: number;
}

async function outcomes(n: number, call: () => Promise<unknown>): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(await outcome(call()));
  return out;
}

/**
 * The same story on every transport: the backend fails, the breaker opens and rejects locally,
 * the backend recovers, the clock moves past the window, calls go through again.
 */
async function opensAndRecovers(
  backend: Backend,
  clock: { advance: (ms: number) => void },
  call: () => Promise<unknown>,
): Promise<void> {
  backend.failing = true;
  assert.deepEqual(await outcomes(minRequests, call), Array(minRequests).fill("503 DOWN"));
  assert.equal(backend.hits, minRequests);

  // Open: 20 more calls fail locally; the backend sees none of them.
  assert.deepEqual(await outcomes(20, call), Array(20).fill("503 CIRCUITBREAKER"));
  assert.equal(backend.hits, minRequests, "the server saw fewer calls than the client made");

  // The backend is healthy again, but the failures are still inside the window.
  backend.failing = false;
  clock.advance(window - 1);
  assert.equal(await outcome(call()), "503 CIRCUITBREAKER");
  assert.equal(backend.hits, minRequests);

  // The window has rolled past the failures: calls reach the backend and succeed.
  clock.advance(window);
  assert.deepEqual(await outcomes(5, call), Array(5).fill("200"));
  assert.equal(backend.hits, minRequests + 5);
}

describe("circuit breaker over real sockets", () => {
  it("HTTP: opens on 503s, rejects locally, recovers after the window", async () => {
    const backend: Backend = { failing: false, hits: 0 };
    const server = createHttpServer({ addr: "127.0.0.1:0" });
    server.route({
      ...BookstoreGetShelfHTTPRoutes[0],
      handler: (req) => {
        backend.hits++;
        return backend.failing
          ? Promise.reject(serviceUnavailable("DOWN", "the shelf service is down"))
          : Promise.resolve({ id: req.shelfId });
      },
    });
    await server.start();
    const clock = breakerOptions();
    const client = createHttpClient({
      endpoint: server.endpoint().href,
      middleware: [circuitBreaker.client(clock)],
    });
    try {
      await opensAndRecovers(backend, clock, () =>
        client.invoke(BookstoreGetShelfHTTPRoutes[0], { shelfId: 1n }),
      );
    } finally {
      client.close();
      await server.stop();
    }
  });

  it("HTTP: refused connections count as failures", async () => {
    const server = createHttpServer({ addr: "127.0.0.1:0" });
    await server.start();
    const endpoint = server.endpoint().href;
    await server.stop();
    const client = createHttpClient({
      endpoint,
      middleware: [circuitBreaker.client(breakerOptions())],
    });
    try {
      const call = () => client.invoke(BookstoreGetShelfHTTPRoutes[0], { shelfId: 1n });
      assert.deepEqual(await outcomes(minRequests, call), Array(minRequests).fill("503 "));
      assert.equal(await outcome(call()), "503 CIRCUITBREAKER");
    } finally {
      client.close();
    }
  });

  it("gRPC: opens on UNAVAILABLE, rejects locally, recovers after the window", async () => {
    const backend: Backend = { failing: false, hits: 0 };
    const server = createGrpcServer({ addr: "127.0.0.1:0" });
    server.register(EchoService, {
      say(req) {
        backend.hits++;
        return backend.failing
          ? Promise.reject(serviceUnavailable("DOWN", "the echo service is down"))
          : Promise.resolve({ sentence: req.sentence });
      },
    });
    await server.start();
    const clock = breakerOptions();
    const client = createGrpcClient(EchoService, {
      endpoint: server.endpoint().href,
      middleware: [circuitBreaker.client(clock)],
    });
    try {
      await opensAndRecovers(backend, clock, () => client.say({ sentence: "hi" }));
    } finally {
      client.close();
      await server.stop();
    }
  });
});
