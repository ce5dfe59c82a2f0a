// Deadline propagation across hops: the deadline of the call a server handles (grpc-timeout,
// or the HTTP server's timeout) bounds the client calls it makes with that context.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fromError } from "kratos-ts/errors";
import { serverTransport } from "kratos-ts/transport";
import { createGrpcClient, createGrpcServer } from "kratos-ts/transport/grpc";
import { createHttpServer } from "kratos-ts/transport/http";
import { EchoService } from "../fixtures/http/gen/echo/v1/echo_pb.js";

/** A downstream whose `slow` waits until its deadline, recording the grpc-timeout it got. */
async function slowDownstream() {
  const timeouts: string[] = [];
  const server = createGrpcServer({ addr: "127.0.0.1:0" });
  server.register(EchoService, {
    slow(_req, ctx) {
      timeouts.push(serverTransport(ctx)?.requestHeader.get("grpc-timeout") ?? "none");
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
  it("bounds a downstream gRPC call by the incoming grpc-timeout, and the handler sees the abort", async () => {
    const down = await slowDownstream();
    const downClient = createGrpcClient(EchoService, { endpoint: down.server.endpoint().host });
    // Settled when the middle handler ends: the edge's own timer may fire first.
    let handlerDone!: (aborted: boolean) => void;
    const handlerAborted = new Promise<boolean>((resolve) => (handlerDone = resolve));
    const middle = createGrpcServer({ addr: "127.0.0.1:0" });
    middle.register(EchoService, {
      async slow(req, ctx) {
        try {
          return await downClient.slow(req, { context: ctx });
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
      assert.equal(down.timeouts.length, 1);
      const sent = /^(\d+)([mu])$/.exec(down.timeouts[0] ?? "");
      assert.ok(sent !== null, `grpc-timeout sent downstream: ${down.timeouts[0] ?? ""}`);
      const ms = sent[2] === "m" ? Number(sent[1]) : Number(sent[1]) / 1000;
      assert.ok(ms > 0 && ms <= 300, `the downstream deadline is within the edge's: ${ms} ms`);
      assert.equal(await handlerAborted, true, "the middle handler's signal is aborted");
    } finally {
      edge.close();
      downClient.close();
      await Promise.all([middle.stop(), down.server.stop()]);
    }
  });

  it("bounds a downstream call by the HTTP server's timeout: 504 on HTTP", async () => {
    const down = await slowDownstream();
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
      const sent = /^(\d+)m$/.exec(down.timeouts[0] ?? "");
      assert.ok(sent !== null && Number(sent[1]) <= 200, `grpc-timeout ${down.timeouts[0] ?? ""}`);
    } finally {
      downClient.close();
      await Promise.all([http.stop(), down.server.stop()]);
    }
  });
});
