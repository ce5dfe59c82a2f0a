import assert from "node:assert/strict";
import { Agent, request } from "node:http";
import type { Socket } from "node:net";
import { after, before, describe, it } from "node:test";
import { performance } from "node:perf_hooks";
import { createUtilizationSampler, ratelimit } from "../../src/middleware/ratelimit.js";
import type { Middleware } from "../../src/middleware/middleware.js";
import { createHttpServer } from "../../src/transport/http/server.js";
import type { HttpServer } from "../../src/transport/http/server.js";

/** CPU each admitted request burns synchronously, in ms: the handler the loop cannot overlap. */
const burnMs = 3;
/** Client sockets in the overload phases: far more than the one core the loop can use. */
const concurrency = 64;
/** Requests of each overload phase: bounded, so the load stops by itself. */
const total = 2000;

function burn(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // Spinning is the point: the event loop is busy and nothing else runs.
  }
}

async function startServer(middleware: Middleware[]): Promise<{ server: HttpServer; url: URL }> {
  const server = createHttpServer({ addr: "127.0.0.1:0", middleware });
  server.handle(
    "GET",
    "/burn",
    (_req, res) => {
      burn(burnMs);
      res.writeHead(200, { "content-type": "text/plain" });
      res.end("ok");
    },
    { middleware: true },
  );
  await server.start();
  return { server, url: new URL("/burn", server.endpoint()) };
}

interface Result {
  status: number;
  /** When the request was sent, ms. */
  sent: number;
  /** From sending to the end of the response, ms. */
  latency: number;
}

/** Connections that have carried a request (see {@link get}). */
const used = new WeakSet<Socket>();

function get(url: URL, agent: Agent): Promise<Result> {
  return new Promise((resolve, reject) => {
    const sent = performance.now();
    let reused = false;
    const req = request(url, { agent }, (res) => {
      res.resume();
      res.on("end", () => {
        resolve({ status: res.statusCode ?? 0, sent, latency: performance.now() - sent });
      });
      res.on("error", reject);
    });
    // Node's `reusedSocket` is only set for a request that finds a free socket, not for one
    // queued until a socket is freed, which is how these workers send theirs: track it here.
    req.on("socket", (socket) => {
      reused = used.has(socket);
      used.add(socket);
    });
    req.on("error", (err: NodeJS.ErrnoException) => {
      // The keep-alive race Node's docs describe for `reusedSocket`: the server's keepAliveTimeout
      // closed the connection as idle just as this request went out on it, which happens when
      // the loop shared by client and server is too loaded to send the next request in time.
      // The server never read the request: send it again.
      if (reused && err.code === "ECONNRESET") get(url, agent).then(resolve, reject);
      else reject(err);
    });
    req.end();
  });
}

/** Sends `count` requests over `sockets` keep-alive connections, each as soon as one ends. */
async function load(url: URL, count: number, sockets: number): Promise<Result[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: sockets });
  const results: Result[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      next++;
      results.push(await get(url, agent));
    }
  };
  try {
    await Promise.all(Array.from({ length: sockets }, worker));
  } finally {
    agent.destroy();
  }
  return results;
}

function percentile(values: number[], p: number): number {
  const sorted = values.toSorted((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

describe("ratelimit under real load", () => {
  // A fast sampler, so overload is noticed within a few hundred requests of the phase.
  const sampler = createUtilizationSampler({ interval: 50, decay: 0.5 });
  let limited: { server: HttpServer; url: URL };
  let unlimited: { server: HttpServer; url: URL };

  before(async () => {
    limited = await startServer([ratelimit.server({ utilization: sampler.value })]);
    unlimited = await startServer([]);
  });

  after(async () => {
    sampler.close();
    await Promise.all([limited.server.stop(), unlimited.server.stop()]);
  });

  it("sheds nothing while requests come one at a time", async () => {
    const results = await load(limited.url, 300, 1);
    assert.deepEqual(
      results.filter((r) => r.status !== 200),
      [],
    );
  });

  it("keeps the p99 of admitted requests bounded under overload by shedding the excess", async (t) => {
    // The same load against the same route without the middleware: everything queues.
    const baseline = await load(unlimited.url, total, concurrency);
    const overload = await load(limited.url, total, concurrency);
    const shed = overload.filter((r) => r.status === 429);
    const admittedAll = overload.filter((r) => r.status === 200);
    assert.equal(shed.length + admittedAll.length, total, "only 200s and 429s");
    assert.ok(shed.length > 0, "some requests are shed");
    // Before the sampler notices the overload, requests queue as they do without the limiter.
    const engaged = Math.min(...shed.map((r) => r.sent));
    const admitted = admittedAll.filter((r) => r.sent >= engaged);
    assert.ok(admitted.length > 0, "requests are still admitted");
    const p99 = (rs: Result[]) =>
      percentile(
        rs.map((r) => r.latency),
        99,
      );
    const info = {
      baselineP99: Math.round(p99(baseline)),
      admittedP99: Math.round(p99(admitted)),
      admittedAllP99: Math.round(p99(admittedAll)),
      admitted: admittedAll.length,
      shed: shed.length,
    };
    t.diagnostic(JSON.stringify(info));
    assert.ok(info.admittedP99 < info.baselineP99 / 2, JSON.stringify(info));
  });
});
