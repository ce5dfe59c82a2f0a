import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { createHttpClient, createHttpServer } from "kratos-ts/transport/http";
import {
  createGreeterHTTPClient,
  registerGreeterHTTPServer,
} from "../../../api/helloworld/v1/greeter_http.js";
import { run, tempDir } from "../../helpers/repo.js";

describe("HTTP server over TLS", () => {
  it("serves https and advertises an https endpoint", async () => {
    const dir = tempDir();
    const key = join(dir.path, "key.pem");
    const cert = join(dir.path, "cert.pem");
    // A throwaway self-signed certificate for 127.0.0.1 (openssl ships with the machine image).
    const made = run("openssl", [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-keyout",
      key,
      "-out",
      cert,
      "-days",
      "1",
      "-subj",
      "/CN=127.0.0.1",
      "-addext",
      "subjectAltName=IP:127.0.0.1",
    ]);
    assert.equal(made.status, 0, made.stderr);
    const server = createHttpServer({
      addr: "127.0.0.1:0",
      tls: { key: readFileSync(key), cert: readFileSync(cert) },
    });
    registerGreeterHTTPServer(server, {
      sayHello: (req) => Promise.resolve({ message: `Hello ${req.name} over TLS` }),
      createGreeting: () => Promise.resolve({}),
      getGreeting: () => Promise.resolve({}),
    });
    await server.start();
    try {
      assert.equal(server.endpoint().protocol, "https:");
      const client = createGreeterHTTPClient(
        createHttpClient({ endpoint: server.endpoint().href, tls: { ca: readFileSync(cert) } }),
      );
      assert.equal((await client.sayHello({ name: "kratos" })).message, "Hello kratos over TLS");
    } finally {
      await server.stop();
      dir.remove();
    }
  });
});
