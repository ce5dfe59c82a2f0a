// The gRPC port over TLS: gRPC (h2), Connect and gRPC-Web (h2 and HTTP/1.1) chosen by ALPN on
// the one port, with clients nobody here wrote (@grpc/grpc-js, connect-node) and our own; the
// limits still bound a TLS connection; plaintext on the TLS port is answered and closed at once.
import assert from "node:assert/strict";
import http2 from "node:http2";
import tls from "node:tls";
import { after, before, describe, it } from "node:test";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import * as grpc from "@grpc/grpc-js";
import { fromError } from "kratos-ts/errors";
import { createGrpcClient } from "kratos-ts/transport/grpc";
import type { GrpcServer } from "kratos-ts/transport/grpc";
import { EchoService } from "../../fixtures/http/gen/echo/v1/echo_pb.js";
import { makeTestCerts } from "../../helpers/certs.js";
import type { TestCerts } from "../../helpers/certs.js";
import {
  closedWithin,
  connect,
  frame,
  h2,
  h2Preface,
  parseResponse,
  rawHttp,
  receive,
} from "../../helpers/wire.js";
import { grpcJsClient, grpcJsSay, missing, tlsEchoServer } from "./tls-support.js";

const certs: TestCerts = makeTestCerts();
after(() => {
  certs.remove();
});

describe("gRPC port over TLS", () => {
  let server: GrpcServer;
  let port: number;
  let client: grpc.Client;

  before(async () => {
    server = tlsEchoServer({ tls: { key: certs.server.key, cert: certs.server.cert } });
    await server.start();
    port = Number(server.endpoint().port);
    client = grpcJsClient(server.endpoint(), grpc.credentials.createSsl(certs.ca));
  });

  after(async () => {
    client.close();
    await server.stop(AbortSignal.timeout(2_000));
  });

  it("advertises a grpcs:// endpoint", () => {
    assert.equal(server.endpoint().protocol, "grpcs:");
  });

  it("serves @grpc/grpc-js: a unary call, and a Kratos error with its ErrorInfo", async () => {
    assert.equal(await grpcJsSay(client, "hello"), "hello");
    const err = await grpcJsSay(client, missing).then(
      () => assert.fail("no error"),
      (e: unknown) => e as grpc.ServiceError,
    );
    assert.equal(err.code, grpc.status.NOT_FOUND);
    const kratos = fromError(err);
    assert.equal(kratos.reason, "GREETING_NOT_FOUND");
    assert.equal(kratos.code, 404);
    assert.deepEqual(kratos.metadata, { name: missing });
  });

  const connectClients = [
    ["Connect over HTTP/1.1", createConnectTransport, "1.1"],
    ["Connect over h2", createConnectTransport, "2"],
    ["gRPC-Web over HTTP/1.1", createGrpcWebTransport, "1.1"],
    ["gRPC-Web over h2", createGrpcWebTransport, "2"],
  ] as const;
  for (const [name, transport, httpVersion] of connectClients) {
    it(`serves connect-node, ${name}`, async () => {
      const echo = createClient(
        EchoService,
        transport({
          baseUrl: `https://127.0.0.1:${port}`,
          httpVersion,
          nodeOptions: { ca: certs.ca },
        }),
      );
      assert.equal((await echo.say({ sentence: name })).sentence, name);
      const err = await echo.say({ sentence: missing }).then(
        () => assert.fail("no error"),
        (e: unknown) => e,
      );
      assert.ok(err instanceof ConnectError, String(err));
      assert.equal(err.code, Code.NotFound);
      assert.equal(fromError(err).reason, "GREETING_NOT_FOUND");
    });
  }

  for (const protocol of ["grpc", "connect", "grpc-web"] as const) {
    it(`serves the kratos-ts gRPC client (${protocol}) at its grpcs:// endpoint`, async () => {
      const echo = createGrpcClient(EchoService, {
        endpoint: server.endpoint().href,
        protocol,
        tls: { ca: certs.ca },
      });
      try {
        assert.equal((await echo.say({ sentence: protocol })).sentence, protocol);
        await assert.rejects(echo.say({ sentence: missing }), { reason: "GREETING_NOT_FOUND" });
      } finally {
        echo.close();
      }
    });
  }

  it("answers plaintext HTTP/1.1 with 400 TLS_REQUIRED and closes at once", async () => {
    const started = Date.now();
    const { data, closed } = await rawHttp(
      port,
      "POST /echo.v1.EchoService/Say HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" +
        "Content-Length: 2\r\n\r\n{}",
    );
    assert.equal(closed, true);
    // Well before the 10 s handshake timeout: the answer does not wait for it.
    assert.ok(Date.now() - started < 5_000);
    const reply = parseResponse(data);
    assert.equal(reply.status, 400);
    assert.equal((JSON.parse(reply.body) as { reason: string }).reason, "TLS_REQUIRED");
    assert.equal(await grpcJsSay(client, "still serving"), "still serving");
  });

  it("answers an h2c preface with GOAWAY INADEQUATE_SECURITY and closes at once", async () => {
    const socket = await connect(port);
    socket.write(Buffer.concat([h2Preface, frame(h2.settings, 0, 0, new Uint8Array())]));
    const { data, closed } = await receive(socket, 5_000);
    assert.equal(closed, true);
    // SETTINGS, then GOAWAY: its error code follows the last stream id.
    const goaway = data.subarray(9);
    assert.equal(goaway[3], h2.goaway);
    assert.equal(goaway.readUInt32BE(13), 0xc);
    assert.match(goaway.subarray(17).toString(), /TLS/);
  });

  it("fails a plaintext (h2c) @grpc/grpc-js call with PERMISSION_DENIED, promptly", async () => {
    const plain = grpcJsClient(server.endpoint(), grpc.credentials.createInsecure());
    try {
      const err = await grpcJsSay(plain, "x").then(
        () => assert.fail("no error"),
        (e: unknown) => e as grpc.ServiceError,
      );
      // The gRPC spec maps HTTP/2 INADEQUATE_SECURITY to PERMISSION_DENIED.
      assert.equal(err.code, grpc.status.PERMISSION_DENIED, err.message);
    } finally {
      plain.close();
    }
  });

  it("cuts garbage at its first bytes", async () => {
    const socket = await connect(port);
    socket.write(Buffer.from([0x00, 0xff, 0x13, 0x37]));
    await closedWithin(socket, 5_000);
  });

  it("refuses a client that does not trust the server's certificate, and keeps serving", async () => {
    const untrusting = grpcJsClient(server.endpoint(), grpc.credentials.createSsl());
    try {
      await assert.rejects(grpcJsSay(untrusting, "x"), { code: grpc.status.UNAVAILABLE });
    } finally {
      untrusting.close();
    }
    const kratos = createGrpcClient(EchoService, { endpoint: server.endpoint().href });
    try {
      // As grpc-js's UNAVAILABLE: the call never reached the server.
      await assert.rejects(kratos.say({ sentence: "x" }), {
        code: 503,
        message: /^TLS with 127\.0\.0\.1:\d+ failed: unable to verify the first certificate/,
      });
    } finally {
      kratos.close();
    }
    assert.equal(await grpcJsSay(client, "after"), "after");
  });
});

describe("gRPC port over TLS, limits", () => {
  let server: GrpcServer;
  let port: number;

  before(async () => {
    server = tlsEchoServer({
      tls: { key: certs.server.key, cert: certs.server.cert },
      handshakeTimeout: 200,
      idleTimeout: 300,
    });
    await server.start();
    port = Number(server.endpoint().port);
  });

  after(async () => {
    await server.stop(AbortSignal.timeout(2_000));
  });

  it("closes a connection that sends nothing at the handshake timeout", async () => {
    const socket = await connect(port);
    await closedWithin(socket, 5_000);
  });

  it("closes a TLS handshake that stalls at the handshake timeout", async () => {
    const socket = await connect(port);
    // A handshake record header announcing 200 bytes, and 3 of them.
    socket.write(Buffer.from([0x16, 0x03, 0x01, 0x00, 0xc8, 0x01, 0x00, 0x00]));
    const took = await closedWithin(socket, 5_000);
    assert.ok(took >= 150, `closed after ${took} ms, before the timeout`);
  });

  it("closes a TLS connection that negotiates h2 and then sends no preface", async () => {
    const socket = tls.connect({ port, host: "127.0.0.1", ca: certs.ca, ALPNProtocols: ["h2"] });
    socket.on("error", () => undefined);
    await new Promise<void>((resolve) => socket.once("secureConnect", resolve));
    assert.equal(socket.alpnProtocol, "h2");
    // The server's SETTINGS arrive, then the close.
    const took = await closedWithin(socket, 5_000);
    assert.ok(took >= 150, `closed after ${took} ms, before the timeout`);
  });

  it("sends an idle HTTP/2 connection away over TLS", async () => {
    const session = http2.connect(`https://127.0.0.1:${port}`, { ca: certs.ca });
    session.on("error", () => undefined);
    try {
      const goaway = new Promise<number>((resolve) => session.once("goaway", resolve));
      await new Promise<void>((resolve) => {
        session.once("connect", () => {
          resolve();
        });
      });
      assert.equal(await goaway, 0); // NO_ERROR: a graceful goodbye
    } finally {
      session.destroy();
    }
  });
});
