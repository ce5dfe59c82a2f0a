// ratelimit on both transports: a shed call is 429 RATELIMIT over HTTP and RESOURCE_EXHAUSTED
// with ErrorInfo reason RATELIMIT over gRPC; admitted calls are served.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fromError } from "kratos-ts/errors";
import { ratelimit } from "kratos-ts/middleware";
import type { Limiter } from "kratos-ts/middleware";
import { createGrpcClient, createGrpcServer } from "kratos-ts/transport/grpc";
import { createHttpServer } from "kratos-ts/transport/http";
import { EchoService } from "../fixtures/http/gen/echo/v1/echo_pb.js";

/** Admits while `open` is true: the shedding decision is the limiter's, the wire is the test's. */
function gate(): Limiter & { open: boolean } {
  const g = {
    open: true,
    allow: () => (g.open ? { done: () => undefined } : undefined),
  };
  return g;
}

describe("ratelimit over HTTP and gRPC", () => {
  it("answers shed calls with RATELIMIT on both transports and serves admitted ones", async () => {
    const limiter = gate();
    const http = createHttpServer({
      addr: "127.0.0.1:0",
      middleware: [ratelimit.server({ limiter })],
    });
    http.handle(
      "GET",
      "/hello",
      (_req, res) => {
        res.end("hi");
      },
      { middleware: true },
    );
    const rpc = createGrpcServer({
      addr: "127.0.0.1:0",
      middleware: [ratelimit.server({ limiter })],
    });
    rpc.register(EchoService, { say: (req) => Promise.resolve({ sentence: req.sentence }) });
    await Promise.all([http.start(), rpc.start()]);
    const client = createGrpcClient(EchoService, { endpoint: rpc.endpoint().host });
    try {
      assert.equal((await fetch(new URL("/hello", http.endpoint()))).status, 200);
      assert.equal((await client.say({ sentence: "a" })).sentence, "a");
      limiter.open = false;
      const shed = await fetch(new URL("/hello", http.endpoint()));
      assert.equal(shed.status, 429);
      assert.equal(((await shed.json()) as { reason: string }).reason, "RATELIMIT");
      await assert.rejects(client.say({ sentence: "b" }), (err) => {
        const e = fromError(err);
        assert.deepEqual([e.code, e.reason], [429, "RATELIMIT"]);
        return true;
      });
    } finally {
      client.close();
      await Promise.all([http.stop(), rpc.stop()]);
    }
  });
});
