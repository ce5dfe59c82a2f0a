// Deadline propagation across hops: the deadline of the call a server handles (grpc-timeout,
// or the HTTP server's timeout) bounds the client calls it makes with that context.
//
// What is passed on and what happens when the deadline passes are separate tests: with one short
// deadline for both, a busy machine could let it pass before the downstream call was made, and
// the downstream then never saw a grpc-timeout to check. Here the deadline that is passed on
// never expires during the test, and the one that expires is checked only for what holds
// whenever it does.
import assert from "node:assert/strict";
import { once } from "node:events";
import { describe, it } from "node:test";
import { fromError } from "kratos-ts/errors";
import { serverTransport } from "kratos-ts/transport";
import type { Context } from "kratos-ts/context";
import { createGrpcClient, createGrpcServer } from "kratos-ts/transport/grpc";
import { createHttpServer } from "kratos-ts/transport/http";
import { EchoService } from "../fixtures/http/gen/echo/v1/echo_pb.js";

/** A deadline far longer than any test: passed on, never reached. */
const distant = 60_000;

/** The grpc-timeout a call came with ("none" without one). */
function grpcTimeout(ctx: Context): string {
  return serverTransport(ctx)?.requestHeader.get("grpc-timeout") ?? "none";
}

/** A grpc-timeout header value in ms (`300m` is 300, `299500u` is 299.5), NaN if malformed. */
function timeoutMs(header: string | undefined): number {
  const match = /^(\d{1,8})([HMSmun])$/.exec(header ?? "");
  if (match === null) return NaN;
  const perUnit = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 1e-3, n: 1e-6 } as const;
  return Number(match[1]) * perUnit[match[2] as keyof typeof perUnit];
}

/**
 * A downstream recording the grpc-timeout of each call: `say` answers at once, `slow` waits
 * until its deadline.
 */
async function downstream() {
  const timeouts: string[] = [];
  const server = createGrpcServer({ addr: "127.0.0.1:0" });
  server.register(EchoService, {
    say(req, ctx) {
      timeouts.push(grpcTimeout(ctx));
      return Promise.resolve({ sentence: req.sentence });
    },
    slow(_req, ctx) {
      timeouts.push(grpcTimeout(ctx));
      return new Promise((_resolve, reject) => {
        ctx.signal.addEventListener("abort", () => {
          reject(ctx.signal.reason);
        });
      });
    },
  });
  await server.start();
  return { server, timeouts };
}

describe("deadline propagation", () => {
  it("passes the incoming grpc-timeout on to a downstream gRPC call, never longer", async () => {
    const down = await downstream();
    const downClient = createGrpcClient(EchoService, { endpoint: down.server.endpoint().host });
    let incoming = "";
    const middle = createGrpcServer({ addr: "127.0.0.1:0" });
    middle.register(EchoService, {
      say(req, ctx) {
        incoming = grpcTimeout(ctx);
        return downClient.say(req, { context: ctx });
      },
    });
    await middle.start();
    const edge = createGrpcClient(EchoService, { endpoint: middle.endpoint().host });
    try {
      assert.equal((await edge.say({ sentence: "hi" }, { timeoutMs: distant })).sentence, "hi");
      assert.equal(down.timeouts.length, 1);
      const [received, sent] = [timeoutMs(incoming), timeoutMs(down.timeouts[0])];
      assert.ok(received > 0 && received <= distant, `grpc-timeout at the middle: ${incoming}`);
      assert.ok(sent > 0 && sent <= received, `grpc-timeout sent downstream: ${down.timeouts[0]}`);
    } finally {
      edge.close();
      downClient.close();
      await Promise.all([middle.stop(), down.server.stop()]);
    }
  });

  it(
    "ends a call whose downstream call outlives the grpc-timeout with 504, aborting the handler",
    { timeout: 20_000 },
    async () => {
      const down = await downstream();
      const downClient = createGrpcClient(EchoService, { endpoint: down.server.endpoint().host });
      // Settled when the middle handler ends: the edge's own timer may fire first.
      let handlerDone!: (aborted: boolean) => void;
      const handlerAborted = new Promise<boolean>((resolve) => (handlerDone = resolve));
      const middle = createGrpcServer({ addr: "127.0.0.1:0" });
      middle.register(EchoService, {
        async slow(req, ctx) {
          try {
            return await downClient.slow(req, { context: ctx });
          } catch (err) {
            // The downstream call carries the same deadline, so its own timer can end it first;
            // the middle server's must still abort the handler (if it never does, this waits
            // until the test's timeout fails it).
            if (!ctx.signal.aborted) await once(ctx.signal, "abort");
            throw err;
          } finally {
            handlerDone(ctx.signal.aborted);
          }
        },
      });
      await middle.start();
      const edge = createGrpcClient(EchoService, { endpoint: middle.endpoint().host });
      try {
        await assert.rejects(edge.slow({}, { timeoutMs: 300 }), (err) => {
          assert.equal(fromError(err).code, 504);
          return true;
        });
        assert.equal(await handlerAborted, true, "the middle handler's signal is aborted");
        // The downstream call is made only if the deadline had not passed yet: when it was, it
        // carried what was left of the edge's 300 ms.
        for (const sent of down.timeouts) assert.ok(timeoutMs(sent) <= 300, sent);
      } finally {
        edge.close();
        downClient.close();
        await Promise.all([middle.stop(), down.server.stop()]);
      }
    },
  );

  it("passes the HTTP server's timeout on to a downstream gRPC call", async () => {
    const down = await downstream();
    const downClient = createGrpcClient(EchoService, { endpoint: down.server.endpoint().host });
    const http = createHttpServer({ addr: "127.0.0.1:0", timeout: distant });
    http.handle(
      "GET",
      "/say",
      async (_req, res, ctx) => {
        res.end((await downClient.say({ sentence: "hi" }, { context: ctx })).sentence);
      },
      { middleware: true },
    );
    await http.start();
    try {
      const res = await fetch(new URL("/say", http.endpoint()));
      assert.equal(await res.text(), "hi");
      assert.equal(down.timeouts.length, 1);
      const sent = timeoutMs(down.timeouts[0]);
      assert.ok(sent > 0 && sent <= distant, `grpc-timeout ${down.timeouts[0] ?? ""}`);
    } finally {
      downClient.close();
      await Promise.all([http.stop(), down.server.stop()]);
    }
  });

  it("answers 504 on HTTP when a downstream call outlives the HTTP server's timeout", async () => {
    const down = await downstream();
    const downClient = createGrpcClient(EchoService, { endpoint: down.server.endpoint().host });
    const http = createHttpServer({ addr: "127.0.0.1:0", timeout: 200 });
    http.handle(
      "GET",
      "/slow",
      async (_req, res, ctx) => {
        await downClient.slow({}, { context: ctx });
        res.end("never");
      },
      { middleware: true },
    );
    await http.start();
    try {
      const res = await fetch(new URL("/slow", http.endpoint()));
      assert.equal(res.status, 504);
      for (const sent of down.timeouts) assert.ok(timeoutMs(sent) <= 200, sent);
    } finally {
      downClient.close();
      await Promise.all([http.stop(), down.server.stop()]);
    }
  });
});
