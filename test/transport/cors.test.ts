// CORS on both servers: the policy's decisions, then preflights and cross-origin calls over real
// sockets (HTTP/1.1 on both ports, HTTP/2 on the gRPC port), allowed and refused origins.
import assert from "node:assert/strict";
import { request } from "node:http";
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from "node:http";
import { after, before, describe, it } from "node:test";
import { cors as connectCors } from "@connectrpc/connect";
import { KratosError } from "kratos-ts/errors";
import type { Logger } from "kratos-ts/log";
import { createGrpcServer, grpcCorsDefaults } from "kratos-ts/transport/grpc";
import type { GrpcServer } from "kratos-ts/transport/grpc";
import { createHttpServer, httpCorsDefaults } from "kratos-ts/transport/http";
import type { HttpServer } from "kratos-ts/transport/http";
import { registerGreeterHTTPServer } from "../../api/helloworld/v1/greeter_http.js";
import { Greeter } from "../../api/helloworld/v1/greeter_pb.js";
import type { HelloRequest } from "../../api/helloworld/v1/greeter_pb.js";
import { corsPolicy } from "../../src/transport/cors.js";
import type { CorsRequest } from "../../src/transport/cors.js";
import { h2Request, h2Session } from "../helpers/wire.js";

const app = "https://app.example";

function ask(overrides: Partial<CorsRequest>): CorsRequest {
  return {
    method: "GET",
    origin: app,
    requestMethod: undefined,
    requestHeaders: undefined,
    ...overrides,
  };
}

const preflight = (origin: string | undefined, method = "POST", headers?: string) =>
  ask({ method: "OPTIONS", origin, requestMethod: method, requestHeaders: headers });

describe("the CORS policy", () => {
  it("leaves requests without Origin alone and serves refused origins without headers", () => {
    const policy = corsPolicy({ origins: [app] }, httpCorsDefaults);
    assert.deepEqual(policy(ask({ origin: undefined })), { kind: "none" });
    assert.deepEqual(policy(ask({ origin: "https://evil.example" })), {
      kind: "serve",
      headers: {},
    });
    const refused = policy(preflight("https://evil.example"));
    assert.ok(refused.kind === "refused", refused.kind);
    assert.equal(refused.error.code, 403);
    assert.equal(refused.error.reason, "ORIGIN_NOT_ALLOWED");
    assert.equal(refused.error.message, "origin https://evil.example may not call this server");
  });

  it("answers an allowed preflight with the methods, the asked headers and max age", () => {
    const policy = corsPolicy({ origins: [app], maxAge: 600, credentials: true }, httpCorsDefaults);
    assert.deepEqual(policy(preflight(app, "PUT", "content-type, x-md-user")), {
      kind: "preflight",
      headers: {
        "access-control-allow-origin": app,
        "access-control-allow-credentials": "true",
        vary: "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
        "access-control-allow-methods": "GET, HEAD, POST, PUT, PATCH, DELETE",
        "access-control-allow-headers": "content-type, x-md-user",
        "access-control-max-age": "600",
      },
    });
    const listed = corsPolicy({ origins: [app], headers: ["Authorization"] }, httpCorsDefaults);
    const answer = listed(preflight(app, "GET", "authorization, x-other"));
    assert.equal(
      answer.kind === "preflight" && answer.headers["access-control-allow-headers"],
      "Authorization",
    );
  });

  it("matches exact origins, patterns, RegExps and any", () => {
    const policy = corsPolicy(
      {
        origins: [
          "https://App.Example/",
          "https://*.example.com",
          "http://localhost:*",
          /^https:\/\/x\d\.test$/,
        ],
      },
      httpCorsDefaults,
    );
    const allowed = (origin: string) =>
      policy(ask({ origin })).kind === "serve" &&
      Object.keys((policy(ask({ origin })) as { headers: object }).headers).length > 0;
    for (const ok of [
      app,
      "https://a.example.com",
      "https://a.b.example.com",
      "http://localhost:5173",
      "https://x1.test",
    ]) {
      assert.ok(allowed(ok), ok);
    }
    for (const no of [
      "https://example.com",
      "https://evil.com/.example.com",
      "https://a.example.com.evil.org",
      "http://localhost",
      "https://app.example:8443",
    ]) {
      assert.ok(!allowed(no), no);
    }
    const any = corsPolicy({ origins: ["*"] }, grpcCorsDefaults);
    assert.deepEqual(any(ask({ origin: "https://anyone.example" })), {
      kind: "serve",
      headers: {
        "access-control-allow-origin": "*",
        "access-control-expose-headers": grpcCorsDefaults.exposeHeaders.join(", "),
      },
    });
    // With credentials, `*` is not allowed by browsers: the origin is echoed, and caches vary.
    const anyWithCookies = corsPolicy({ origins: ["*"], credentials: true }, grpcCorsDefaults);
    const answer = anyWithCookies(ask({ origin: "https://anyone.example" }));
    assert.equal(
      answer.kind === "serve" && answer.headers["access-control-allow-origin"],
      "https://anyone.example",
    );
    assert.equal(answer.kind === "serve" && answer.headers["vary"], "Origin");
  });

  it("logs a refused origin at debug", () => {
    const lines: unknown[] = [];
    const logger = { debug: (...args: unknown[]) => lines.push(args) } as unknown as Logger;
    corsPolicy({ origins: [app], logger }, httpCorsDefaults)(preflight("https://evil.example"));
    assert.equal(lines.length, 1);
  });

  it("exposes every header connect-web needs to read on the gRPC port", () => {
    for (const name of connectCors.exposedHeaders) {
      assert.ok(
        grpcCorsDefaults.exposeHeaders.map((h) => h.toLowerCase()).includes(name.toLowerCase()),
        name,
      );
    }
    for (const method of connectCors.allowedMethods)
      assert.ok(grpcCorsDefaults.methods.includes(method));
  });
});

/** One HTTP/1.1 request; resolves with the status, headers and body. */
function http1(
  url: URL,
  method: string,
  headers: OutgoingHttpHeaders,
  body?: Uint8Array | string,
): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (text += chunk));
      res.on("end", () => {
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text });
      });
    });
    req.on("error", reject);
    req.end(body);
  });
}

const greeter = {
  sayHello(req: HelloRequest) {
    return Promise.resolve({ message: `Hello ${req.name}` });
  },
  getGreeting() {
    return Promise.reject(new KratosError(404, "GREETING_NOT_FOUND", "no such greeting"));
  },
};

describe("CORS on the servers", () => {
  let http: HttpServer;
  let grpc: GrpcServer;
  let plain: HttpServer;
  before(async () => {
    http = createHttpServer({ addr: "127.0.0.1:0", cors: { origins: [app], maxAge: 60 } });
    registerGreeterHTTPServer(http, { ...greeter, createGreeting: () => Promise.resolve({}) });
    grpc = createGrpcServer({ addr: "127.0.0.1:0", cors: { origins: [app] } });
    grpc.register(Greeter, greeter);
    plain = createHttpServer({ addr: "127.0.0.1:0" });
    registerGreeterHTTPServer(plain, { ...greeter, createGreeting: () => Promise.resolve({}) });
    await Promise.all([http.start(), grpc.start(), plain.start()]);
  });
  after(async () => {
    await Promise.all([http.stop(), grpc.stop(), plain.stop()]);
  });

  it("HTTP: answers a preflight before routing, and adds the headers to the call", async () => {
    const url = new URL("/helloworld/kratos", http.endpoint());
    const pre = await http1(url, "OPTIONS", {
      origin: app,
      "access-control-request-method": "GET",
      "access-control-request-headers": "x-md-user",
    });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers["access-control-allow-origin"], app);
    assert.equal(pre.headers["access-control-allow-headers"], "x-md-user");
    assert.equal(pre.headers["access-control-max-age"], "60");
    const call = await http1(url, "GET", { origin: app });
    assert.equal(call.status, 200);
    assert.equal(call.body, '{"message":"Hello kratos"}');
    assert.equal(call.headers["access-control-allow-origin"], app);
    assert.equal(call.headers["vary"], "Origin");
  });

  it("HTTP: refuses a preflight from another origin with 403 and serves its calls without CORS", async () => {
    const url = new URL("/helloworld/kratos", http.endpoint());
    const pre = await http1(url, "OPTIONS", {
      origin: "https://evil.example",
      "access-control-request-method": "GET",
    });
    assert.equal(pre.status, 403);
    assert.equal(pre.headers["access-control-allow-origin"], undefined);
    assert.equal((JSON.parse(pre.body) as { reason: string }).reason, "ORIGIN_NOT_ALLOWED");
    const call = await http1(url, "GET", { origin: "https://evil.example" });
    assert.equal(call.status, 200);
    assert.equal(call.headers["access-control-allow-origin"], undefined);
  });

  it("HTTP: without cors, a preflight is an unknown method as before", async () => {
    const url = new URL("/helloworld/kratos", plain.endpoint());
    const pre = await http1(url, "OPTIONS", {
      origin: app,
      "access-control-request-method": "GET",
    });
    assert.equal(pre.status, 405);
    assert.equal(pre.headers["access-control-allow-origin"], undefined);
  });

  it("gRPC port: answers preflights on HTTP/1.1 and HTTP/2", async () => {
    const url = new URL("/helloworld.v1.Greeter/SayHello", `http://${grpc.endpoint().host}`);
    const pre = await http1(url, "OPTIONS", {
      origin: app,
      "access-control-request-method": "POST",
      "access-control-request-headers": "content-type, connect-protocol-version",
    });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers["access-control-allow-methods"], "POST, GET");
    assert.equal(
      pre.headers["access-control-allow-headers"],
      "content-type, connect-protocol-version",
    );
    const { session, socket } = await h2Session(Number(grpc.endpoint().port));
    try {
      const answer = await h2Request(session, {
        ":method": "OPTIONS",
        ":path": "/helloworld.v1.Greeter/SayHello",
        origin: app,
        "access-control-request-method": "POST",
      });
      assert.equal(answer.status, 204);
      assert.equal(answer.headers["access-control-allow-origin"], app);
      const refused = await h2Request(session, {
        ":method": "OPTIONS",
        ":path": "/helloworld.v1.Greeter/SayHello",
        origin: "https://evil.example",
        "access-control-request-method": "POST",
      });
      assert.equal(refused.status, 403);
      assert.equal(refused.headers["access-control-allow-origin"], undefined);
    } finally {
      session.close();
      socket.destroy();
    }
  });

  it("gRPC port: a Connect call and a gRPC-Web error carry the origin and the exposed headers", async () => {
    const url = new URL("/helloworld.v1.Greeter/SayHello", `http://${grpc.endpoint().host}`);
    const call = await http1(
      url,
      "POST",
      { origin: app, "content-type": "application/json" },
      '{"name":"web"}',
    );
    assert.equal(call.status, 200);
    assert.equal(call.body, '{"message":"Hello web"}');
    assert.equal(call.headers["access-control-allow-origin"], app);
    assert.match(String(call.headers["access-control-expose-headers"]), /Grpc-Status-Details-Bin/);
    const web = await http1(
      new URL("/helloworld.v1.Greeter/GetGreeting", url),
      "POST",
      { origin: app, "content-type": "application/grpc-web+proto", "x-grpc-web": "1" },
      Buffer.from([0, 0, 0, 0, 0]),
    );
    assert.equal(web.status, 200);
    assert.equal(web.headers["access-control-allow-origin"], app);
    // The status travels in the trailer frame of the body, or in the head of a trailers-only answer.
    const status = web.headers["grpc-status"] ?? /grpc-status:\s*(\d+)/.exec(web.body)?.[1];
    assert.equal(status, "5");
    assert.match(String(web.headers["access-control-expose-headers"]), /Grpc-Status/);
  });
});
