// What one client can hold on the gRPC port, with the limits made short: silent connections,
// slow HTTP/1.1 headers and bodies, slow HTTP/2 request messages, idle sessions, too many
// connections, streams past their deadline.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createGrpcServer } from "../../../src/transport/grpc/index.js";
import type { GrpcServer } from "../../../src/transport/grpc/index.js";
import { EchoService } from "../../fixtures/http/gen/echo/v1/echo_pb.js";
import {
  closedWithin,
  connect,
  envelope,
  frame,
  frameTypes,
  grpcHeaders,
  h2,
  h2Preface,
  hpack,
  grpcStatus,
  h2Request,
  h2Session,
  parseResponse,
  receive,
} from "../../helpers/wire.js";

function echoServer(options: Parameters<typeof createGrpcServer>[0]): GrpcServer {
  const server = createGrpcServer({ addr: "127.0.0.1:0", ...options });
  server.register(EchoService, {
    say(req) {
      return Promise.resolve({ sentence: req.sentence });
    },
    // Never yields, never reads its signal: only the server's deadline handling ends it.
    // eslint-disable-next-line require-yield -- the point: it never yields
    async *count() {
      await new Promise<never>(() => undefined);
    },
  });
  return server;
}

describe("gRPC port connection limits", () => {
  let server: GrpcServer;
  let port: number;

  before(async () => {
    server = echoServer({
      handshakeTimeout: 200,
      headersTimeout: 200,
      requestTimeout: 300,
      idleTimeout: 300,
    });
    await server.start();
    port = Number(server.endpoint().port);
  });

  after(async () => {
    await server.stop(AbortSignal.timeout(2_000));
  });

  it("closes a connection that shows no protocol within the handshake timeout", async () => {
    const socket = await connect(port);
    await closedWithin(socket, 5_000);
  });

  it("answers slow HTTP/1.1 headers with 408 and the Kratos body, then closes", async () => {
    const socket = await connect(port);
    socket.write("POST /echo.v1.EchoService/Say HTTP/1.1\r\nHost: x\r\n");
    const { data, closed } = await receive(socket, 5_000);
    assert.equal(closed, true);
    const reply = parseResponse(data);
    assert.equal(reply.status, 408);
    assert.equal((JSON.parse(reply.body) as { reason: string }).reason, "REQUEST_TIMEOUT");
  });

  it("answers a slow Connect body over HTTP/1.1 with 408", async () => {
    const socket = await connect(port);
    socket.write(
      "POST /echo.v1.EchoService/Say HTTP/1.1\r\nHost: x\r\n" +
        "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{",
    );
    const { data, closed } = await receive(socket, 5_000);
    assert.equal(closed, true);
    assert.equal(parseResponse(data).status, 408);
  });

  it("fails a gRPC call whose request message does not arrive in time", async () => {
    const { session } = await h2Session(port);
    try {
      const stream = session.request(grpcHeaders("/echo.v1.EchoService/Say"), {
        endStream: false,
      });
      stream.on("error", () => undefined);
      // Half an envelope, then nothing.
      stream.write(envelope(Buffer.alloc(10)).subarray(0, 8));
      const trailers = await new Promise<Record<string, unknown>>((resolve) => {
        stream.once("response", (h) => {
          if (h["grpc-status"] !== undefined) resolve(h);
        });
        stream.once("trailers", resolve);
      });
      assert.equal(trailers["grpc-status"], "4"); // DEADLINE_EXCEEDED: the client was too slow
      stream.close();
    } finally {
      session.destroy();
    }
  });

  it("sends an idle HTTP/2 connection away", async () => {
    const { session, socket } = await h2Session(port);
    const answer = await h2Request(
      session,
      grpcHeaders("/echo.v1.EchoService/Say"),
      envelope(new Uint8Array()),
    );
    assert.equal(grpcStatus(answer), 0);
    const goaway = new Promise<number>((resolve) => session.once("goaway", resolve));
    assert.equal(await goaway, 0); // NO_ERROR: a graceful goodbye
    await closedWithin(socket, 5_000);
  });

  it("closes an idle HTTP/2 connection whose stream cannot finish", async () => {
    // The client's flow-control window is 0: the reply's DATA and trailers cannot be sent, so
    // the stream stays open, and the client goes silent. GOAWAY alone would wait for it forever.
    const socket = await connect(port);
    const zeroWindow = Buffer.from([0, 4, 0, 0, 0, 0]); // SETTINGS_INITIAL_WINDOW_SIZE = 0
    const headers = hpack({
      ":method": "POST",
      ":scheme": "http",
      ":path": "/echo.v1.EchoService/Say",
      ":authority": "127.0.0.1",
      "content-type": "application/grpc",
      te: "trailers",
    });
    socket.write(
      Buffer.concat([
        h2Preface,
        frame(h2.settings, 0, 0, zeroWindow),
        frame(h2.headers, h2.endHeaders, 1, headers),
        frame(h2.data, h2.endStream, 1, envelope(new Uint8Array([0x0a, 2, 0x68, 0x69]))),
      ]),
    );
    const answered = receive(socket, 10_000);
    await closedWithin(socket, 8_000);
    // It was answered (HEADERS), sent away (GOAWAY), then closed.
    const types = frameTypes((await answered).data);
    assert.ok(types.includes(h2.headers) && types.includes(h2.goaway), types.join());
  });

  it("closes connections over maxConnections as they arrive", async () => {
    const capped = echoServer({ maxConnections: 4 });
    await capped.start();
    const cappedPort = Number(capped.endpoint().port);
    const held = await Promise.all(Array.from({ length: 4 }, () => connect(cappedPort)));
    try {
      const extra = await connect(cappedPort);
      // The handshake timeout is 10 s here: only the cap closes it this soon.
      await closedWithin(extra, 2_000);
      for (const socket of held) assert.equal(socket.destroyed, false);
    } finally {
      for (const socket of held) socket.destroy();
      await capped.stop(AbortSignal.timeout(2_000));
    }
  });
});

describe("gRPC port restarted", () => {
  it("keeps its HTTP/1.1 limits and keep-alive after a stop and a start", async () => {
    const server = echoServer({ headersTimeout: 200 });
    await server.start();
    await server.stop();
    await server.start();
    try {
      const port = Number(server.endpoint().port);
      const ok = await fetch(`http://127.0.0.1:${port}/grpc.health.v1.Health/Check`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "{}",
      });
      assert.equal(ok.status, 200);
      assert.notEqual(ok.headers.get("connection"), "close");
      await ok.text();
      const socket = await connect(port);
      socket.write("POST /echo.v1.EchoService/Say HTTP/1.1\r\nHost: x\r\n");
      const { data } = await receive(socket, 5_000);
      assert.equal(parseResponse(data).status, 408);
    } finally {
      await server.stop(AbortSignal.timeout(2_000));
    }
  });
});

describe("gRPC streaming deadlines", () => {
  let server: GrpcServer;
  let port: number;

  before(async () => {
    server = echoServer({ timeout: 200 });
    await server.start();
    port = Number(server.endpoint().port);
  });

  after(async () => {
    await server.stop(AbortSignal.timeout(2_000));
  });

  for (const [name, timeout] of [
    ["an expired grpc-timeout (1n)", "1n"],
    ["a grpc-timeout of 100m", "100m"],
    ["the server's timeout", undefined],
  ] as const) {
    it(`ends Health/Watch with DEADLINE_EXCEEDED at ${name}`, async () => {
      const { session } = await h2Session(port);
      try {
        const answer = await h2Request(
          session,
          grpcHeaders(
            "/grpc.health.v1.Health/Watch",
            timeout === undefined ? {} : { "grpc-timeout": timeout },
          ),
          envelope(new Uint8Array()),
        );
        assert.equal(grpcStatus(answer), 4);
      } finally {
        session.destroy();
      }
    });
  }

  it("ends a server stream whose handler ignores its signal at the deadline", async () => {
    const { session } = await h2Session(port);
    try {
      const answer = await h2Request(
        session,
        grpcHeaders("/echo.v1.EchoService/Count", { "grpc-timeout": "50m" }),
        envelope(new Uint8Array()),
      );
      assert.equal(grpcStatus(answer), 4);
    } finally {
      session.destroy();
    }
  });
});
