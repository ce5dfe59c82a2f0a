// `server.grpc.tls` of the layout's config: which TLS options it makes, the one-line errors of a
// bad setting, a gRPC server built from it serving TLS, and the service itself serving mTLS from
// PEM files named in its config (set from env here).
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { liveValue } from "kratos-ts/config";
import { createGovernanceStore } from "kratos-ts/governance";
import { createLogger } from "kratos-ts/log";
import { compileAuth } from "kratos-ts/middleware";
import { HelloReplySchema, HelloRequestSchema } from "../../api/helloworld/v1/greeter_pb.js";
import { Server_GRPCSchema, Server_TLSSchema } from "../../internal/conf/conf_pb.js";
import { tlsOptions } from "../../internal/server/conf.js";
import { newGrpcServer } from "../../internal/server/grpc.js";
import { makeTestCerts } from "../helpers/certs.js";
import { tempDir } from "../helpers/repo.js";
import { spawnService, startService, writeLayoutConfig } from "../helpers/service.js";

const certs = makeTestCerts();
after(() => {
  certs.remove();
});

const key = "server.grpc.tls";
const tlsConf = (fields: { certFile?: string; keyFile?: string; clientCaFile?: string }) =>
  create(Server_TLSSchema, fields);

describe("layout config server.grpc.tls", () => {
  it("is off when unset or empty", () => {
    assert.equal(tlsOptions(key, undefined), undefined);
    assert.equal(tlsOptions(key, tlsConf({})), undefined);
  });

  it("reads the certificate and key; asks for no client certificate without a client CA", () => {
    const options = tlsOptions(
      key,
      tlsConf({ certFile: certs.server.certFile, keyFile: certs.server.keyFile }),
    );
    assert.deepEqual(options, { cert: certs.server.cert, key: certs.server.key });
  });

  it("asks for client certificates signed by client_ca_file (mTLS)", () => {
    const options = tlsOptions(
      key,
      tlsConf({
        certFile: certs.server.certFile,
        keyFile: certs.server.keyFile,
        clientCaFile: certs.caFile,
      }),
    );
    assert.equal(options?.requestCert, true);
    assert.equal(options.rejectUnauthorized, true);
    assert.deepEqual(options.ca, certs.ca);
  });

  const bad: [string, Parameters<typeof tlsConf>[0], RegExp][] = [
    [
      "a missing key_file",
      { certFile: certs.server.certFile },
      /^server\.grpc\.tls\.key_file: required with cert_file$/,
    ],
    [
      "a missing cert_file",
      { keyFile: certs.server.keyFile },
      /^server\.grpc\.tls\.cert_file: required with key_file$/,
    ],
    [
      "a client CA alone",
      { clientCaFile: certs.caFile },
      /^server\.grpc\.tls\.cert_file: required with client_ca_file$/,
    ],
    [
      "an unreadable client CA",
      {
        certFile: certs.server.certFile,
        keyFile: certs.server.keyFile,
        clientCaFile: "/nope/ca.pem",
      },
      /^server\.grpc\.tls\.client_ca_file: cannot read \/nope\/ca\.pem \(ENOENT\)$/,
    ],
    [
      "a key that is not the certificate's",
      { certFile: certs.server.certFile, keyFile: certs.stranger.keyFile },
      /^server\.grpc\.tls: cannot use .*server\.pem and .*stranger\.key \(.*key values mismatch\)$/,
    ],
  ];
  for (const [name, fields, message] of bad) {
    it(`names the key for ${name}`, () => {
      assert.throws(() => tlsOptions(key, tlsConf(fields)), { message });
    });
  }

  it("builds a gRPC server that serves TLS at a grpcs:// endpoint", async () => {
    const conf = create(Server_GRPCSchema, {
      addr: "127.0.0.1:0",
      tls: { certFile: certs.server.certFile, keyFile: certs.server.keyFile },
    });
    const server = newGrpcServer(
      conf,
      [],
      createLogger({ level: "silent" }),
      createGovernanceStore(),
      { auth: liveValue(compileAuth(undefined)), bbr: liveValue(false) },
    );
    await server.start();
    try {
      assert.equal(server.endpoint().protocol, "grpcs:");
      const res = await fetch(`http://${server.endpoint().host}/grpc.health.v1.Health/Check`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "{}",
      });
      // Plaintext is refused with the reason.
      assert.equal(res.status, 400);
      assert.equal(((await res.json()) as { reason: string }).reason, "TLS_REQUIRED");
    } finally {
      await server.stop();
    }
  });
});

/** SayHello through @grpc/grpc-js with `credentials`; resolves with the message. */
function sayHello(target: string, credentials: grpc.ChannelCredentials): Promise<string> {
  const client = new grpc.Client(target, credentials, {
    "grpc.ssl_target_name_override": "localhost",
  });
  return new Promise<string>((resolve, reject) => {
    client.makeUnaryRequest(
      "/helloworld.v1.Greeter/SayHello",
      (m: { name: string }) =>
        Buffer.from(toBinary(HelloRequestSchema, create(HelloRequestSchema, m))),
      (b: Buffer) => fromBinary(HelloReplySchema, b),
      { name: "tls" },
      (err, reply) => {
        if (err !== null) reject(err);
        else resolve(reply?.message ?? "");
      },
    );
  }).finally(() => {
    client.close();
  });
}

describe("layout service, gRPC TLS from its config", () => {
  it("serves mTLS at a grpcs:// endpoint for server.grpc.tls", async () => {
    const dir = tempDir("kratos-ts-layout-tls-");
    writeLayoutConfig(dir.path);
    const service = await startService(["-conf", join(dir.path, "configs")], dir.path, {
      HELLOWORLD_SERVER__GRPC__TLS__CERT_FILE: certs.server.certFile,
      HELLOWORLD_SERVER__GRPC__TLS__KEY_FILE: certs.server.keyFile,
      HELLOWORLD_SERVER__GRPC__TLS__CLIENT_CA_FILE: certs.caFile,
    });
    try {
      assert.equal(service.grpc.protocol, "grpcs:");
      const withCert = grpc.credentials.createSsl(certs.ca, certs.client.key, certs.client.cert);
      assert.match(await sayHello(service.grpc.host, withCert), /tls/);
      await assert.rejects(sayHello(service.grpc.host, grpc.credentials.createSsl(certs.ca)), {
        code: grpc.status.UNAVAILABLE,
      });
    } finally {
      service.child.kill("SIGTERM");
      await service.exited;
      dir.remove();
    }
  });

  it("fails to start with one line naming the file and key of a missing certificate", async () => {
    const dir = tempDir("kratos-ts-layout-tls-");
    mkdirSync(join(dir.path, "configs"));
    writeFileSync(
      join(dir.path, "configs", "config.yaml"),
      [
        "server:",
        "  http: { addr: 127.0.0.1:0 }",
        "  grpc:",
        "    addr: 127.0.0.1:0",
        "    tls:",
        "      cert_file: ./nope.pem",
        `      key_file: ${certs.server.keyFile}`,
        "data:",
        "  database: { driver: sqlite, source: ':memory:' }",
        "",
      ].join("\n"),
    );
    const service = spawnService(["-conf", join(dir.path, "configs")], dir.path);
    try {
      assert.equal(await service.exited, 1);
      const stderr = service.stderr();
      assert.equal(stderr.trimEnd().split("\n").length, 1, stderr);
      assert.match(
        stderr,
        /config\.yaml: server\.grpc\.tls\.cert_file: cannot read \.\/nope\.pem \(ENOENT\)/,
      );
    } finally {
      dir.remove();
    }
  });
});
