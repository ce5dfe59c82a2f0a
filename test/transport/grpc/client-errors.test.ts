// A client's mistakes on the gRPC port get a client error, never a 5xx or INTERNAL/UNKNOWN; a
// request the server will not read is not read (a small drain at most), on HTTP/1.1 and HTTP/2.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createGrpcServer } from "../../../src/transport/grpc/index.js";
import type { GrpcServer } from "../../../src/transport/grpc/index.js";
import { EchoService } from "../../fixtures/http/gen/echo/v1/echo_pb.js";
import type { SayRequest } from "../../fixtures/http/gen/echo/v1/echo_pb.js";
import {
  connect,
  envelope,
  grpcHeaders,
  grpcStatus,
  h2Request,
  h2Session,
  parseResponse,
  receive,
  writeUntilStopped,
} from "../../helpers/wire.js";

const limit = 1024;

describe("gRPC port client errors", () => {
  let server: GrpcServer;
  let port: number;
  let base: string;
  let lastSay: SayRequest | undefined;

  before(async () => {
    server = createGrpcServer({ addr: "127.0.0.1:0", maxMessageBytes: limit });
    server.register(EchoService, {
      say(req) {
        lastSay = req;
        return Promise.resolve({ sentence: req.sentence });
      },
    });
    await server.start();
    port = Number(server.endpoint().port);
    base = `http://127.0.0.1:${port}`;
  });

  after(async () => {
    await server.stop(AbortSignal.timeout(2_000));
  });

  async function connectPost(path: string, body: string | Uint8Array, headers = {}) {
    const res = await fetch(`${base}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body,
    });
    return { status: res.status, body: (await res.json()) as { code: string; message: string } };
  }

  it("answers a Connect GET with a message that is not base64 with 400 invalid_argument", async () => {
    const res = await fetch(
      `${base}/echo.v1.EchoService/Say?encoding=proto&base64=1&message=%25%25%25%25`,
    );
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as { code: string }).code, "invalid_argument");
  });

  it("answers a Connect unary call to a streaming method with 415 unimplemented", async () => {
    const r = await connectPost("/grpc.health.v1.Health/Watch", "{}");
    assert.equal(r.status, 415);
    assert.equal(r.body.code, "unimplemented");
  });

  it("rejects invalid UTF-8 in a Connect JSON body with 400", async () => {
    const r = await connectPost(
      "/echo.v1.EchoService/Say",
      Buffer.concat([Buffer.from('{"sentence":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]),
    );
    assert.equal(r.status, 400);
    assert.equal(r.body.code, "invalid_argument");
    assert.match(r.body.message, /UTF-8/);
  });

  it("keeps no unknown fields of a request message (one object each: 4 MiB would take ~300 MiB)", async () => {
    // Field 1 (sentence) "hi", then 300 copies of field 15 as a varint 0: two bytes apiece.
    const body = Buffer.concat([Buffer.from([0x0a, 2, 0x68, 0x69]), Buffer.alloc(600, "x\0")]);
    const res = await fetch(`${base}/echo.v1.EchoService/Say`, {
      method: "POST",
      headers: { "content-type": "application/proto" },
      body,
    });
    assert.equal(res.status, 200);
    assert.equal(lastSay?.sentence, "hi");
    assert.equal(lastSay.$unknown, undefined);
  });

  it("rejects a malformed connect-timeout-ms with 400", async () => {
    const r = await connectPost("/echo.v1.EchoService/Say", "{}", { "connect-timeout-ms": "1s" });
    assert.equal(r.status, 400);
    assert.match(r.body.message, /connect-timeout-ms/);
  });

  for (const [name, headers, body] of [
    ["a malformed grpc-timeout", { "grpc-timeout": "1x" }, envelope(new Uint8Array())],
    ["a grpc-timeout of 9 digits", { "grpc-timeout": "123456789S" }, envelope(new Uint8Array())],
    ["envelope flags 0x80", {}, envelope(new Uint8Array(), 0x80)],
    ["envelope flags 0xFE", {}, envelope(new Uint8Array(), 0xfe)],
    ["an envelope longer than its body", {}, envelope(Buffer.alloc(10)).subarray(0, 8)],
  ] as const) {
    it(`answers gRPC ${name} with INVALID_ARGUMENT`, async () => {
      const { session } = await h2Session(port);
      try {
        const answer = await h2Request(
          session,
          grpcHeaders("/echo.v1.EchoService/Say", headers),
          body,
        );
        assert.equal(grpcStatus(answer), 3);
      } finally {
        session.destroy();
      }
    });
  }

  it("stops reading an oversized Connect body over HTTP/1.1 and closes the connection", async () => {
    const socket = await connect(port);
    const total = 64 * 1024 * 1024;
    socket.write(
      "POST /echo.v1.EchoService/Say HTTP/1.1\r\nHost: x\r\n" +
        `Content-Type: application/json\r\nContent-Length: ${total}\r\n\r\n`,
    );
    const answered = receive(socket, 10_000);
    const written = await writeUntilStopped(socket, Buffer.alloc(64 * 1024, 0x20), total, answered);
    const { data, closed } = await answered;
    assert.equal(closed, true);
    // RESOURCE_EXHAUSTED, which Connect sends as 429.
    assert.equal(parseResponse(data).status, 429);
    assert.match(parseResponse(data).head, /connection: close/i);
    assert.ok(written < total, `the server read all ${total} bytes`);
  });

  it("asks an HTTP/2 client sending an oversized message to stop (RST_STREAM NO_ERROR)", async () => {
    const { session } = await h2Session(port);
    try {
      const stream = session.request(grpcHeaders("/echo.v1.EchoService/Say"), {
        endStream: false,
      });
      stream.on("error", () => undefined);
      stream.write(envelope(Buffer.alloc(limit * 4)));
      let status = "";
      stream.on("response", (h) => {
        status = String(h["grpc-status"] ?? "");
      });
      // The client never ends its side: only the server's RST_STREAM closes the stream.
      await new Promise((resolve) => stream.once("close", resolve));
      assert.equal(status, "8"); // RESOURCE_EXHAUSTED, trailers-only
      assert.equal(stream.rstCode, 0);
    } finally {
      session.destroy();
    }
  });
});
