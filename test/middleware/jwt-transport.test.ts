// auth/jwt over real sockets: one service on HTTP and gRPC behind jwt.server, called by the
// kratos-ts clients with and without jwt.client, plus operations exempted by a selector.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createClient, ConnectError, Code } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import type { JWTPayload } from "jose";
import type { Context } from "../../src/context.js";
import { KratosError } from "../../src/errors/error.js";
import { ErrorInfoSchema } from "../../src/gen/google/rpc/error_details_pb.js";
import { jwtClaims } from "../../src/middleware/jwt-claims.js";
import { jwt } from "../../src/middleware/jwt.js";
import { selector } from "../../src/middleware/selector.js";
import { createGrpcClient } from "../../src/transport/grpc/client.js";
import { Health } from "../../src/transport/grpc/health.js";
import { createGrpcServer } from "../../src/transport/grpc/server.js";
import type { GrpcServer } from "../../src/transport/grpc/server.js";
import { createHttpClient } from "../../src/transport/http/client.js";
import { createHttpServer } from "../../src/transport/http/server.js";
import type { HttpServer } from "../../src/transport/http/server.js";
import {
  createGreeterHTTPClient,
  registerGreeterHTTPServer,
} from "../../api/helloworld/v1/greeter_http.js";
import type { GreeterHTTPServer } from "../../api/helloworld/v1/greeter_http.js";
import { Greeter } from "../../api/helloworld/v1/greeter_pb.js";
import type { GetGreetingRequest, HelloRequest } from "../../api/helloworld/v1/greeter_pb.js";

const secret = new TextEncoder().encode("integration-secret-of-32-bytes-or-more");

/** SayHello needs a token and greets its subject; GetGreeting plays the public "login". */
class GreeterService implements GreeterHTTPServer {
  sayHello(req: HelloRequest, ctx: Context) {
    const claims: JWTPayload | undefined = jwtClaims(ctx);
    return Promise.resolve({ message: `Hello ${req.name}, from ${claims?.sub ?? "nobody"}` });
  }
  createGreeting() {
    return Promise.resolve({});
  }
  getGreeting(req: GetGreetingRequest) {
    return Promise.resolve({ id: req.id, name: "public", message: "no token needed" });
  }
}

// Exempt: health checks and the public operation; everything else needs a token.
const exempt = (operation: string) =>
  operation.startsWith("/grpc.health.v1.Health/") ||
  operation === "/helloworld.v1.Greeter/GetGreeting";

const auth = selector.server({
  middleware: [jwt.server({ key: secret })],
  match: (operation) => !exempt(operation),
});

const signer = jwt.client({ key: secret, claims: { sub: "alice" }, expiresIn: 60 });

function isUnauthorized(err: unknown): boolean {
  assert.ok(err instanceof KratosError, `not a KratosError: ${String(err)}`);
  assert.equal(err.code, 401);
  assert.equal(err.reason, "UNAUTHORIZED");
  assert.equal(err.message, "JWT token is missing");
  return true;
}

describe("auth/jwt over HTTP and gRPC", () => {
  let http: HttpServer;
  let rpc: GrpcServer;

  before(async () => {
    const service = new GreeterService();
    http = createHttpServer({ addr: "127.0.0.1:0", middleware: [auth] });
    rpc = createGrpcServer({ addr: "127.0.0.1:0", middleware: [auth] });
    registerGreeterHTTPServer(http, service);
    rpc.register(Greeter, service);
    await Promise.all([http.start(), rpc.start()]);
  });

  after(async () => {
    await Promise.all([http.stop(), rpc.stop()]);
  });

  it("HTTP: the handler sees the claims jwt.client signed; no token is a 401", async () => {
    const signed = createGreeterHTTPClient(
      createHttpClient({ endpoint: http.endpoint().href, middleware: [signer] }),
    );
    assert.equal((await signed.sayHello({ name: "http" })).message, "Hello http, from alice");

    const anonymous = createGreeterHTTPClient(createHttpClient({ endpoint: http.endpoint().href }));
    await assert.rejects(anonymous.sayHello({ name: "http" }), isUnauthorized);
    const missing = await fetch(`${http.endpoint().href}helloworld/raw`);
    assert.equal(missing.status, 401);
    assert.equal(missing.headers.get("www-authenticate"), "Bearer");
    await missing.body?.cancel();

    // On the wire: status 401 and the Kratos JSON error body.
    const res = await fetch(`${http.endpoint().href}helloworld/raw`, {
      headers: { authorization: "Bearer not.a.jwt" },
    });
    assert.equal(res.status, 401);
    assert.equal(res.headers.get("www-authenticate"), 'Bearer error="invalid_token"');
    assert.deepEqual(await res.json(), {
      code: 401,
      reason: "UNAUTHORIZED",
      message: "Fail to parse JWT token",
      metadata: {},
    });
  });

  it("gRPC: the handler sees the claims; no token is UNAUTHENTICATED with reason UNAUTHORIZED", async () => {
    const signed = createGrpcClient(Greeter, {
      endpoint: rpc.endpoint().host,
      middleware: [signer],
    });
    const anonymous = createGrpcClient(Greeter, { endpoint: rpc.endpoint().host });
    try {
      assert.equal((await signed.sayHello({ name: "grpc" })).message, "Hello grpc, from alice");
      await assert.rejects(anonymous.sayHello({ name: "grpc" }), isUnauthorized);
    } finally {
      signed.close();
      anonymous.close();
    }

    // On the wire, seen by a plain Connect gRPC client: the status and its ErrorInfo detail.
    const raw = createClient(
      Greeter,
      createGrpcTransport({ baseUrl: `http://${rpc.endpoint().host}` }),
    );
    await assert.rejects(raw.sayHello({ name: "grpc" }), (err: unknown) => {
      assert.ok(err instanceof ConnectError);
      assert.equal(err.code, Code.Unauthenticated);
      assert.equal(err.rawMessage, "JWT token is missing");
      assert.equal(err.findDetails(ErrorInfoSchema)[0]?.reason, "UNAUTHORIZED");
      return true;
    });
  });

  it("exempt operations answer without a token on both transports", async () => {
    const httpClient = createGreeterHTTPClient(
      createHttpClient({ endpoint: http.endpoint().href }),
    );
    const greeter = createGrpcClient(Greeter, { endpoint: rpc.endpoint().host });
    const health = createGrpcClient(Health, { endpoint: rpc.endpoint().host });
    try {
      assert.equal((await httpClient.getGreeting({ id: 1n })).message, "no token needed");
      assert.equal((await greeter.getGreeting({ id: 2n })).message, "no token needed");
      const status = await health.check({ service: "" });
      assert.equal(status.status, 1); // SERVING
    } finally {
      greeter.close();
      health.close();
    }
  });
});
