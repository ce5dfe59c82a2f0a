// recovery over real sockets: a handler bug on HTTP and gRPC, and a throw inside a stream.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { fromError } from "kratos-ts/errors";
import type { Logger } from "kratos-ts/log";
import { recovery } from "kratos-ts/middleware";
import { createGrpcClient, createGrpcServer } from "kratos-ts/transport/grpc";
import type { GrpcServer } from "kratos-ts/transport/grpc";
import { createHttpServer } from "kratos-ts/transport/http";
import type { HttpServer } from "kratos-ts/transport/http";
import { EchoService } from "../fixtures/http/gen/echo/v1/echo_pb.js";

describe("recovery on both transports", () => {
  const logged: Record<string, unknown>[] = [];
  const logger: Logger = {
    debug: () => undefined,
    info: () => undefined,
    warn: () => undefined,
    error: (fields: object | string) => {
      logged.push(typeof fields === "string" ? { msg: fields } : { ...fields });
    },
    child: () => logger,
  };
  let http: HttpServer;
  let rpc: GrpcServer;

  before(async () => {
    http = createHttpServer({ addr: "127.0.0.1:0", middleware: [recovery({ logger })] });
    http.handle(
      "GET",
      "/bug",
      () => {
        throw new TypeError("cannot read properties of undefined");
      },
      { middleware: true, operation: "/test.Bug/Get" },
    );
    rpc = createGrpcServer({ addr: "127.0.0.1:0", middleware: [recovery({ logger })] });
    rpc.register(EchoService, {
      say() {
        return Promise.reject(new RangeError("index out of range"));
      },
      async *count(req) {
        yield { number: 1 };
        if (req.upTo > 1) throw new Error("stream broke after one message");
      },
    });
    await Promise.all([http.start(), rpc.start()]);
  });

  after(async () => {
    await Promise.all([http.stop(), rpc.stop()]);
  });

  it("answers a handler bug with 500 UNKNOWN on HTTP, logged once with the stack", async () => {
    logged.length = 0;
    const res = await fetch(new URL("/bug", http.endpoint()));
    assert.equal(res.status, 500);
    assert.deepEqual(await res.json(), {
      code: 500,
      reason: "UNKNOWN",
      message: "unknown request error",
      metadata: {},
    });
    assert.equal(logged.length, 1);
    assert.equal(logged[0]?.["operation"], "/test.Bug/Get");
    assert.match(String(logged[0]["stack"]), /TypeError: cannot read properties/);
  });

  it("answers a handler bug with UNKNOWN on gRPC, and the server keeps serving", async () => {
    logged.length = 0;
    const client = createGrpcClient(EchoService, { endpoint: rpc.endpoint().host });
    try {
      for (let i = 0; i < 2; i++) {
        await assert.rejects(client.say({ sentence: "x" }), (err) => {
          const e = fromError(err);
          assert.deepEqual(
            [e.code, e.reason, e.message],
            [500, "UNKNOWN", "unknown request error"],
          );
          return true;
        });
      }
      assert.equal(logged.length, 2);
      assert.equal(logged[0]?.["operation"], "/echo.v1.EchoService/Say");
    } finally {
      client.close();
    }
  });

  it("covers a throw inside a server stream", async () => {
    logged.length = 0;
    const client = createGrpcClient(EchoService, { endpoint: rpc.endpoint().host });
    const got: number[] = [];
    try {
      await assert.rejects(
        (async () => {
          for await (const m of client.count({ upTo: 2 })) got.push(m.number);
        })(),
        (err) => fromError(err).reason === "UNKNOWN",
      );
      assert.deepEqual(got, [1], "the message before the throw arrived");
      assert.equal(logged.length, 1);
      assert.match(String(logged[0]?.["stack"]), /stream broke after one message/);
    } finally {
      client.close();
    }
  });
});
