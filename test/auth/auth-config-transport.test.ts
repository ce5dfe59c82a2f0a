// Auth from config over real sockets: one Greeter on HTTP and gRPC behind liveAuth(followAuth),
// its `auth` section read from a config file. HS256 with a secret, RS256 with a JWKS served by a
// local server, a JWKS URL that cannot be reached (401 without hanging, one warning),
// authorisation rules (403 FORBIDDEN), public operations, and a live edit of the file.
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import type { JWTPayload } from "jose";
import { createConfig, fileSource } from "../../src/config/index.js";
import type { Config } from "../../src/config/index.js";
import { KratosError } from "../../src/errors/error.js";
import { createLogger } from "../../src/log/index.js";
import { followAuth, liveAuth } from "../../src/middleware/index.js";
import type { Middleware } from "../../src/middleware/index.js";
import { createGrpcClient } from "../../src/transport/grpc/client.js";
import { Health } from "../../src/transport/grpc/health.js";
import { createGrpcServer } from "../../src/transport/grpc/server.js";
import type { GrpcServer } from "../../src/transport/grpc/server.js";
import { createHttpServer } from "../../src/transport/http/server.js";
import type { HttpServer } from "../../src/transport/http/server.js";
import { clientTransport } from "../../src/transport/transport.js";
import { registerGreeterHTTPServer } from "../../api/helloworld/v1/greeter_http.js";
import { Greeter } from "../../api/helloworld/v1/greeter_pb.js";
import type { HelloRequest } from "../../api/helloworld/v1/greeter_pb.js";
import { tempDir } from "../helpers/repo.js";

const secret = "a-config-secret-of-at-least-32-bytes!!";
const say = "/helloworld.v1.Greeter/SayHello";

const service = {
  sayHello: (req: HelloRequest) => Promise.resolve({ message: `Hello ${req.name}` }),
  createGreeting: () => Promise.resolve({ id: 7n, name: "n", message: "created" }),
  getGreeting: () => Promise.resolve({ id: 1n, name: "n", message: "got" }),
};

function hs256(claims: JWTPayload, key = secret): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: "HS256" })
    .setExpirationTime("1m")
    .sign(new TextEncoder().encode(key));
}

/** A client middleware sending `token` (when set) as the Bearer token. */
const bearer =
  (token: string | undefined): Middleware =>
  (next) =>
  (ctx, req) => {
    if (token !== undefined)
      clientTransport(ctx)?.requestHeader.set("authorization", `Bearer ${token}`);
    return next(ctx, req);
  };

/** A config dir, a Config over it, HTTP and gRPC servers behind its `auth`, and log lines. */
class Harness {
  readonly dir = tempDir("kratos-ts-auth-");
  readonly file = join(this.dir.path, "config.yaml");
  readonly lines: Record<string, unknown>[] = [];
  config!: Config;
  http!: HttpServer;
  rpc!: GrpcServer;
  #stop: (() => void) | undefined;

  async start(yaml: string): Promise<void> {
    writeFileSync(this.file, yaml);
    this.config = createConfig({ sources: [fileSource(this.file)] });
    await this.config.load();
    const logger = createLogger({
      destination: {
        write: (l: string) => void this.lines.push(JSON.parse(l) as Record<string, unknown>),
      },
    });
    const auth = followAuth(this.config, { logger });
    this.#stop = () => {
      auth.close();
    };
    this.http = createHttpServer({ addr: "127.0.0.1:0", middleware: [liveAuth(auth)] });
    this.rpc = createGrpcServer({ addr: "127.0.0.1:0", middleware: [liveAuth(auth)] });
    registerGreeterHTTPServer(this.http, service);
    this.rpc.register(Greeter, service);
    await Promise.all([this.http.start(), this.rpc.start()]);
  }

  async stop(): Promise<void> {
    this.#stop?.();
    await Promise.all([this.http.stop(), this.rpc.stop(), this.config.close()]);
    this.dir.remove();
  }

  /** SayHello (or `path`) over HTTP: the status and the reason. */
  async httpCall(token?: string, init: { path?: string; body?: string } = {}) {
    const res = await fetch(new URL(init.path ?? "/helloworld/kratos", this.http.endpoint()), {
      method: init.body === undefined ? "GET" : "POST",
      headers: {
        "content-type": "application/json",
        ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
      },
      ...(init.body === undefined ? {} : { body: init.body }),
    });
    const body = (await res.json()) as { reason?: string; message?: string };
    return { status: res.status, reason: body.reason, message: body.message };
  }

  /** A gRPC call (`call` picks it): "ok", or the KratosError's code and reason. */
  async grpcCall(token: string | undefined, call: "say" | "create" = "say") {
    const client = createGrpcClient(Greeter, {
      endpoint: this.rpc.endpoint().host,
      middleware: [bearer(token)],
    });
    try {
      if (call === "say") await client.sayHello({ name: "grpc" });
      else await client.createGreeting({ name: "n" });
      return "ok";
    } catch (err) {
      assert.ok(err instanceof KratosError, String(err));
      return `${err.code} ${err.reason}`;
    } finally {
      client.close();
    }
  }

  /** Resolves when a log line matching `match` arrives after `seen` lines (polls the list). */
  async line(seen: number, match: (l: Record<string, unknown>) => boolean, ms = 5000) {
    const end = performance.now() + ms;
    for (;;) {
      const found = this.lines.slice(seen).find(match);
      if (found !== undefined) return found;
      if (performance.now() > end)
        throw new Error(`no such line; lines: ${JSON.stringify(this.lines)}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}

describe("auth from config: HS256 with a secret, rules, public operations", () => {
  const h = new Harness();
  before(() =>
    h.start(
      [
        "auth:",
        "  jwt: { secret: " + JSON.stringify(secret) + ", issuer: tests }",
        "  rules:",
        "    - operations: [/helloworld.v1.Greeter/CreateGreeting]",
        "      scopes: [greetings.write]",
        "      claims: { role: [admin, ops] }",
        "",
      ].join("\n"),
    ),
  );
  after(() => h.stop());

  it("answers 401 without a token and 200 with a good one, on both transports", async () => {
    assert.deepEqual((await h.httpCall()).status, 401);
    assert.equal(await h.grpcCall(undefined), "401 UNAUTHORIZED");
    const token = await hs256({ sub: "alice", iss: "tests" });
    assert.equal((await h.httpCall(token)).status, 200);
    assert.equal(await h.grpcCall(token), "ok");
    // The issuer is checked.
    const stranger = await hs256({ sub: "alice", iss: "elsewhere" });
    assert.equal((await h.httpCall(stranger)).status, 401);
    assert.equal(await h.grpcCall(stranger), "401 UNAUTHORIZED");
  });

  it("answers 403 FORBIDDEN naming the missing scope or claim, on both transports", async () => {
    const body = JSON.stringify({ name: "n" });
    const reader = await hs256({
      sub: "bob",
      iss: "tests",
      scope: "greetings.read",
      role: "admin",
    });
    const refused = await h.httpCall(reader, { path: "/v1/greetings", body });
    assert.deepEqual(refused, {
      status: 403,
      reason: "FORBIDDEN",
      message:
        'permission denied for /helloworld.v1.Greeter/CreateGreeting: the token lacks the scope "greetings.write"',
    });
    assert.equal(await h.grpcCall(reader, "create"), "403 FORBIDDEN");
    const guest = await hs256({
      sub: "bob",
      iss: "tests",
      scp: ["greetings.write"],
      role: "guest",
    });
    const noRole = await h.httpCall(guest, { path: "/v1/greetings", body });
    assert.equal(noRole.status, 403);
    assert.match(noRole.message ?? "", /the token's "role" claim is not "admin" or "ops"$/);
    const writer = await hs256({
      sub: "carol",
      iss: "tests",
      scope: "greetings.read greetings.write",
      role: "ops",
    });
    assert.equal((await h.httpCall(writer, { path: "/v1/greetings", body })).status, 200);
    assert.equal(await h.grpcCall(writer, "create"), "ok");
    // A rule guards only its operations: SayHello needs a token, not the scope.
    assert.equal(await h.grpcCall(reader), "ok");
  });

  it("keeps health and reflection public by default", async () => {
    const health = createGrpcClient(Health, { endpoint: h.rpc.endpoint().host });
    try {
      assert.equal((await health.check({ service: "" })).status, 1);
    } finally {
      health.close();
    }
  });

  it("applies an edit of the file to the next calls, and refuses a bad one naming the key", async () => {
    const old = await hs256({ sub: "alice", iss: "tests" });
    const next = "another-config-secret-of-32-bytes-or-more";
    let seen = h.lines.length;
    writeFileSync(h.file, `auth:\n  jwt: { secret: ${next} }\n  public: [${say}]\n`);
    const start = performance.now();
    await h.line(seen, (l) => l["msg"] === "config changed" && l["key"] === "auth");
    assert.ok(performance.now() - start < 1000);
    // SayHello is public now; CreateGreeting needs the new secret.
    assert.equal((await h.httpCall()).status, 200);
    const body = JSON.stringify({ name: "n" });
    assert.equal((await h.httpCall(old, { path: "/v1/greetings", body })).status, 401);
    const fresh = await hs256({ sub: "alice" }, next);
    assert.equal((await h.httpCall(fresh, { path: "/v1/greetings", body })).status, 200);

    seen = h.lines.length;
    writeFileSync(h.file, `auth:\n  jwt: { secret: ${next}, algorithms: [HS257] }\n`);
    const warning = await h.line(seen, (l) => l["level"] === "warn");
    assert.equal(
      warning["msg"],
      `${h.file}: auth.jwt.algorithms.0: unknown algorithm "HS257" (HS256, HS384, HS512, RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA, Ed25519); keeping the last good settings`,
    );
    assert.equal(h.lines.slice(seen).filter((l) => l["level"] === "warn").length, 1);
    // The last good settings stay.
    assert.equal((await h.httpCall()).status, 200);
    assert.equal((await h.httpCall(fresh, { path: "/v1/greetings", body })).status, 200);
  });
});

describe("auth from config: RS256 with a JWKS URL", () => {
  const h = new Harness();
  let jwks: Server;
  let sign: (claims: JWTPayload) => Promise<string>;
  // A server that accepts connections and never answers: a JWKS URL that hangs.
  let blackhole: Server;
  let closedPort: number;

  before(async () => {
    const { publicKey, privateKey } = await generateKeyPair("RS256");
    const jwk = { ...(await exportJWK(publicKey)), kid: "k1", alg: "RS256", use: "sig" };
    sign = (claims) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: "RS256", kid: "k1" })
        .setExpirationTime("1m")
        .sign(privateKey);
    jwks = createServer((_req, res) => {
      res
        .writeHead(200, { "content-type": "application/json" })
        .end(JSON.stringify({ keys: [jwk] }));
    });
    blackhole = createServer(() => undefined);
    const gone = createServer();
    await Promise.all(
      [jwks, blackhole, gone].map((s) => new Promise<void>((r) => s.listen(0, "127.0.0.1", r))),
    );
    closedPort = (gone.address() as AddressInfo).port;
    await new Promise<void>((r) =>
      gone.close(() => {
        r();
      }),
    );
    const port = (jwks.address() as AddressInfo).port;
    await h.start(
      `auth:\n  jwt: { jwks_url: "http://127.0.0.1:${port}/jwks.json", algorithms: [RS256] }\n`,
    );
  });
  after(async () => {
    await h.stop();
    blackhole.closeAllConnections();
    await Promise.all(
      [jwks, blackhole].map(
        (s) =>
          new Promise<void>((r) =>
            s.close(() => {
              r();
            }),
          ),
      ),
    );
  });

  it("verifies tokens with the served key set on both transports", async () => {
    const token = await sign({ sub: "alice" });
    assert.equal((await h.httpCall(token)).status, 200);
    assert.equal(await h.grpcCall(token), "ok");
    assert.equal((await h.httpCall(await hs256({ sub: "alice" }))).status, 401);
  });

  for (const [name, url] of [
    ["refuses connections", () => `http://127.0.0.1:${closedPort}/jwks.json`],
    [
      "never answers",
      () => `http://127.0.0.1:${(blackhole.address() as AddressInfo).port}/jwks.json`,
    ],
  ] as const) {
    it(`answers 401 without hanging, with one warning, when the JWKS URL ${name}`, async () => {
      const seen = h.lines.length;
      writeFileSync(
        h.file,
        `auth:\n  jwt: { jwks_url: "${url()}", algorithms: [RS256], jwks_timeout: 300ms }\n`,
      );
      await h.line(seen, (l) => l["msg"] === "config changed");
      const warning = await h.line(seen, (l) => l["level"] === "warn");
      assert.match(
        String(warning["msg"]),
        /auth\.jwt\.jwks_url: cannot fetch http:\/\/127\.0\.0\.1:\d+\/jwks\.json \(.+\); calls that need a token answer 401/,
      );
      const token = await sign({ sub: "alice" });
      const start = performance.now();
      const [viaHttp, viaGrpc] = await Promise.all([h.httpCall(token), h.grpcCall(token)]);
      assert.equal(viaHttp.status, 401);
      assert.equal(viaGrpc, "401 UNAUTHORIZED");
      // Bounded by jwks_timeout (300 ms), with room for a busy machine.
      assert.ok(performance.now() - start < 5000);
      assert.equal(h.lines.slice(seen).filter((l) => l["level"] === "warn").length, 1);
    });
  }
});
