// The gRPC port with mTLS (`requestCert` and the clients' CA): a client certificate signed by
// the CA gets in; no certificate, or one the CA did not sign, fails the handshake while the
// server keeps serving the others. And a stop over TLS loses no call in flight.
import assert from "node:assert/strict";
import tls from "node:tls";
import { after, before, describe, it } from "node:test";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import * as grpc from "@grpc/grpc-js";
import { createGrpcClient } from "kratos-ts/transport/grpc";
import type { GrpcServer } from "kratos-ts/transport/grpc";
import { EchoService } from "../../fixtures/http/gen/echo/v1/echo_pb.js";
import { makeTestCerts } from "../../helpers/certs.js";
import type { TestCerts } from "../../helpers/certs.js";
import { grpcJsClient, grpcJsSay, tlsEchoServer } from "./tls-support.js";

const certs: TestCerts = makeTestCerts();
after(() => {
  certs.remove();
});

describe("gRPC port with mTLS", () => {
  let server: GrpcServer;
  let port: number;

  before(async () => {
    server = tlsEchoServer({
      tls: { key: certs.server.key, cert: certs.server.cert, ca: certs.ca, requestCert: true },
    });
    await server.start();
    port = Number(server.endpoint().port);
  });

  after(async () => {
    await server.stop(AbortSignal.timeout(2_000));
  });

  const withCert = () =>
    grpcJsClient(
      server.endpoint(),
      grpc.credentials.createSsl(certs.ca, certs.client.key, certs.client.cert),
    );

  it("serves @grpc/grpc-js with a client certificate signed by the CA", async () => {
    const client = withCert();
    try {
      assert.equal(await grpcJsSay(client, "mtls"), "mtls");
    } finally {
      client.close();
    }
  });

  for (const [name, credentials] of [
    ["without a client certificate", () => grpc.credentials.createSsl(certs.ca)],
    [
      "with a certificate the CA did not sign",
      () => grpc.credentials.createSsl(certs.ca, certs.stranger.key, certs.stranger.cert),
    ],
  ] as const) {
    it(`refuses @grpc/grpc-js ${name}, and keeps serving`, async () => {
      const refused = grpcJsClient(server.endpoint(), credentials());
      const client = withCert();
      try {
        await assert.rejects(grpcJsSay(refused, "x"), { code: grpc.status.UNAVAILABLE });
        assert.equal(await grpcJsSay(client, "still serving"), "still serving");
      } finally {
        refused.close();
        client.close();
      }
    });
  }

  it("fails the TLS handshake of a client without a certificate", async () => {
    const socket = tls.connect({ port, host: "127.0.0.1", ca: certs.ca, ALPNProtocols: ["h2"] });
    // TLS 1.3: the client may finish its side first; the server's alert then ends it.
    const outcome = await new Promise<string>((resolve) => {
      socket.once("error", (err: NodeJS.ErrnoException) => {
        resolve(err.code ?? err.message);
      });
      socket.once("close", () => {
        resolve("closed");
      });
      socket.resume();
    });
    assert.match(outcome, /CERTIFICATE_REQUIRED|ECONNRESET|closed/);
  });

  it("serves connect-node over HTTP/1.1 and the kratos-ts client with a client certificate", async () => {
    const clientTls = { ca: certs.ca, key: certs.client.key, cert: certs.client.cert };
    const connect = createClient(
      EchoService,
      createConnectTransport({
        baseUrl: `https://127.0.0.1:${port}`,
        httpVersion: "1.1",
        nodeOptions: clientTls,
      }),
    );
    assert.equal((await connect.say({ sentence: "connect" })).sentence, "connect");
    const kratos = createGrpcClient(EchoService, {
      endpoint: server.endpoint().href,
      tls: clientTls,
    });
    try {
      assert.equal((await kratos.say({ sentence: "kratos" })).sentence, "kratos");
    } finally {
      kratos.close();
    }
  });

  it("fails the kratos-ts client without a client certificate with 503, naming TLS", async () => {
    const kratos = createGrpcClient(EchoService, {
      endpoint: server.endpoint().href,
      tls: { ca: certs.ca },
    });
    try {
      await assert.rejects(kratos.say({ sentence: "x" }), {
        code: 503,
        message: /^TLS with 127\.0\.0\.1:\d+ failed: .*certificate required/,
      });
    } finally {
      kratos.close();
    }
  });
});

describe("gRPC port over TLS, graceful stop", () => {
  for (const [name, protocol] of [
    ["gRPC over h2", "grpc"],
    ["gRPC-Web over HTTP/1.1", "grpc-web"],
  ] as const) {
    it(`finishes a ${name} call in flight, then closes`, async () => {
      let arrived!: () => void;
      const inHandler = new Promise<void>((resolve) => (arrived = resolve));
      let release!: () => void;
      const gate = { arrived, release: new Promise<void>((resolve) => (release = resolve)) };
      const server = tlsEchoServer(
        { tls: { key: certs.server.key, cert: certs.server.cert } },
        gate,
      );
      await server.start();
      const client = createGrpcClient(EchoService, {
        endpoint: server.endpoint().href,
        protocol,
        tls: { ca: certs.ca },
      });
      try {
        const call = client.say({ sentence: "in flight" });
        await inHandler;
        const stopped = server.stop(AbortSignal.timeout(10_000));
        release();
        assert.equal((await call).sentence, "in flight");
        await stopped;
        assert.equal(server.endpoint().protocol, "grpcs:");
      } finally {
        client.close();
        await server.stop();
      }
    });
  }
});
