// The quota middleware: keys from the operation, a header, metadata, the JWT subject or a
// constant; 429 RATE_LIMITED naming the limit; a local limiter answers without a promise; a
// selector swaps limiters per call; and the wire on both transports.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createContext } from "kratos-ts";
import type { Context } from "kratos-ts";
import { fromError, KratosError } from "kratos-ts/errors";
import { jwt } from "kratos-ts/middleware";
import { Metadata } from "kratos-ts/metadata";
import {
  createFixedPeriodLimiter,
  createTokenBucketLimiter,
  quota,
  quotaKeys,
} from "kratos-ts/ratelimit";
import type { RateLimiter } from "kratos-ts/ratelimit";
import { createGrpcClient, createGrpcServer } from "kratos-ts/transport/grpc";
import { createHttpServer } from "kratos-ts/transport/http";
import { SignJWT } from "jose";
import { setServerMetadata } from "../../src/metadata/metadata.js";
import { setServerTransport } from "../../src/transport/transport.js";
import { NodeHeader } from "../../src/transport/header.js";
import { EchoService } from "../fixtures/http/gen/echo/v1/echo_pb.js";

function serverCtx(operation: string, headers: Record<string, string> = {}): Context {
  const ctx = createContext();
  setServerTransport(ctx, {
    kind: "http",
    endpoint: "http://127.0.0.1:1",
    operation,
    requestHeader: new NodeHeader({ ...headers }),
    replyHeader: new NodeHeader(),
  });
  return ctx;
}

const ok = () => Promise.resolve("ok");

/** A limiter that records the keys it was asked about and admits the first `n` of each. */
function recording(n: number): RateLimiter & { keys: string[] } {
  const inner = createFixedPeriodLimiter({ limit: n, period: 3_600_000 });
  const keys: string[] = [];
  return {
    keys,
    description: inner.description,
    take: (key, cost) => {
      keys.push(key);
      return inner.take(key, cost);
    },
    close: () => undefined,
  };
}

describe("quotaKeys", () => {
  it("reads the operation, a header, metadata, a constant and joins them", async () => {
    const ctx = serverCtx("/echo.v1.EchoService/Say", { "x-api-key": "k1" });
    setServerMetadata(ctx, new Metadata({ "x-md-user": "u1" }));
    const table = [
      { key: quotaKeys.operation(), want: "/echo.v1.EchoService/Say" },
      { key: quotaKeys.header("X-Api-Key"), want: "k1" },
      { key: quotaKeys.header("x-missing"), want: "" },
      { key: quotaKeys.metadata("x-md-user"), want: "u1" },
      { key: quotaKeys.jwtSubject(), want: "" },
      { key: quotaKeys.constant("all"), want: "all" },
      {
        key: quotaKeys.join(quotaKeys.operation(), quotaKeys.metadata("x-md-user")),
        want: "/echo.v1.EchoService/Say|u1",
      },
      { key: quotaKeys.join(quotaKeys.constant("a"), () => undefined), want: undefined },
    ];
    for (const { key, want } of table) {
      const limiter = recording(10);
      await quota.server({ limiter, key })(ok)(ctx, {});
      // An exempted call never reaches the limiter.
      assert.equal(limiter.keys[0], want);
    }
  });

  it("reads the subject the jwt middleware verified", async () => {
    const secret = new TextEncoder().encode("0123456789abcdef0123456789abcdef");
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: "HS256" })
      .setSubject("alice")
      .sign(secret);
    const limiter = recording(1);
    const ctx = serverCtx("/op", { authorization: `Bearer ${token}` });
    const handler = jwt.server({ key: secret })(
      quota.server({ limiter, key: quotaKeys.jwtSubject() })(ok),
    );
    assert.equal(await handler(ctx, {}), "ok");
    assert.deepEqual(limiter.keys, ["alice"]);
  });
});

describe("quota middleware", () => {
  it("fails the call past the limit with 429 RATE_LIMITED naming the limit, without next", async () => {
    let calls = 0;
    const handler = quota.server({
      limiter: createTokenBucketLimiter({ rate: 2, burst: 2, now: () => 0 }),
    })(() => {
      calls++;
      return ok();
    });
    const ctx = serverCtx("/op");
    assert.equal(await handler(ctx, {}), "ok");
    assert.equal(await handler(ctx, {}), "ok");
    await assert.rejects(handler(ctx, {}), (err: unknown) => {
      assert.ok(err instanceof KratosError);
      assert.deepEqual([err.code, err.reason], [429, "RATE_LIMITED"]);
      assert.equal(err.message, "rate limit exceeded: 2 per second (burst 2)");
      return true;
    });
    assert.equal(calls, 2);
  });

  it("hands the handler's own promise through when a local limiter admits", () => {
    const reply = Promise.resolve("mine");
    const handler = quota.server({ limiter: createTokenBucketLimiter({ rate: 1 }) })(() => reply);
    assert.equal(handler(serverCtx("/op"), {}), reply);
  });

  it("waits for an asynchronous limiter", async () => {
    const limiter: RateLimiter = {
      description: "async",
      take: (key) => Promise.resolve(key === "/yes"),
      close: () => undefined,
    };
    const handler = quota.server({ limiter })(ok);
    assert.equal(await handler(serverCtx("/yes"), {}), "ok");
    await assert.rejects(handler(serverCtx("/no"), {}), { reason: "RATE_LIMITED" });
  });

  it("takes `cost` tokens and lets a selector pick or skip the limiter per call", async () => {
    const small = recording(3);
    const handler = quota.server({
      limiter: (ctx) => (ctx.deadline !== undefined ? undefined : small),
      cost: 2,
    })(ok);
    assert.equal(await handler(serverCtx("/op"), {}), "ok");
    await assert.rejects(handler(serverCtx("/op"), {}), { reason: "RATE_LIMITED" });
    // A context with a deadline is exempted by this selector.
    assert.equal(await handler(createContext({ timeoutMs: 1000 }), {}), "ok");
  });
});

describe("quota over HTTP and gRPC", () => {
  it("answers 429 RATE_LIMITED over HTTP and RESOURCE_EXHAUSTED over gRPC", async () => {
    const limiter = createFixedPeriodLimiter({ limit: 1, period: 3_600_000 });
    const middleware = [quota.server({ limiter, key: quotaKeys.header("x-api-key") })];
    const http = createHttpServer({ addr: "127.0.0.1:0", middleware });
    http.handle("GET", "/hello", (_req, res) => void res.end("hi"), { middleware: true });
    const rpc = createGrpcServer({ addr: "127.0.0.1:0", middleware });
    rpc.register(EchoService, { say: (req) => Promise.resolve({ sentence: req.sentence }) });
    await Promise.all([http.start(), rpc.start()]);
    const client = createGrpcClient(EchoService, { endpoint: rpc.endpoint().host });
    try {
      const url = new URL("/hello", http.endpoint());
      const headers = { "x-api-key": "http" };
      assert.equal((await fetch(url, { headers })).status, 200);
      const limited = await fetch(url, { headers });
      assert.equal(limited.status, 429);
      assert.deepEqual(await limited.json(), {
        code: 429,
        reason: "RATE_LIMITED",
        message: "rate limit exceeded: 1 per hour",
        metadata: {},
      });
      // Another key has its own limit; no header is the shared empty key.
      assert.equal((await fetch(url, { headers: { "x-api-key": "other" } })).status, 200);
      assert.equal((await fetch(url)).status, 200);
      assert.equal((await fetch(url)).status, 429);
      assert.equal(
        (await client.say({ sentence: "a" }, { headers: { "x-api-key": "grpc" } })).sentence,
        "a",
      );
      await assert.rejects(
        client.say({ sentence: "b" }, { headers: { "x-api-key": "grpc" } }),
        (err) => {
          const e = fromError(err);
          assert.deepEqual([e.code, e.reason], [429, "RATE_LIMITED"]);
          return true;
        },
      );
    } finally {
      client.close();
      await Promise.all([http.stop(), rpc.stop()]);
    }
  });
});
