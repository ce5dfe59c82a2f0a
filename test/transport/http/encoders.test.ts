// responseEncoder and errorEncoder (Go Kratos http.ResponseEncoder / ErrorEncoder): what the
// encoder is given, and that the defaults stay Kratos's bare message and error body.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { toJson } from "@bufbuild/protobuf";
import { KratosError } from "kratos-ts/errors";
import { createHttpServer, httpTransport, setResponseStatus } from "kratos-ts/transport/http";
import type { HttpReply, HttpServer } from "kratos-ts/transport/http";
import { registerGreeterHTTPServer } from "../../../api/helloworld/v1/greeter_http.js";
import type { GreeterHTTPServer } from "../../../api/helloworld/v1/greeter_http.js";

const greeter: GreeterHTTPServer = {
  sayHello: (req, ctx) => {
    httpTransport(ctx)?.replyHeader.set("x-served-by", "encoders");
    if (req.name === "boom") throw new KratosError(418, "TEAPOT", "short and stout");
    return Promise.resolve({ message: `Hello ${req.name}` });
  },
  createGreeting: (req, ctx) => {
    setResponseStatus(ctx, 201);
    return Promise.resolve({ id: 5n, name: req.name });
  },
  getGreeting: () => Promise.reject(new KratosError(404, "GREETING_NOT_FOUND", "none")),
};

describe("HTTP response and error encoders", () => {
  const seen: HttpReply[] = [];
  let enveloped: HttpServer;
  let bare: HttpServer;
  before(async () => {
    enveloped = createHttpServer({
      addr: "127.0.0.1:0",
      responseEncoder: (reply, _req, res) => {
        seen.push(reply);
        res.setHeader("content-type", "application/json");
        res.end(JSON.stringify({ code: 0, data: toJson(reply.schema, reply.message) }));
      },
      errorEncoder: (err, _req, res) => {
        res.writeHead(err.code, { "content-type": "application/json" });
        res.end(JSON.stringify({ code: err.code, reason: err.reason, data: null }));
      },
    });
    registerGreeterHTTPServer(enveloped, greeter);
    bare = createHttpServer({ addr: "127.0.0.1:0" });
    registerGreeterHTTPServer(bare, greeter);
    await Promise.all([enveloped.start(), bare.start()]);
  });
  after(async () => {
    await Promise.all([enveloped.stop(), bare.stop()]);
  });

  it("gives the encoder the message, its schema, the status and the codec, with headers set", async () => {
    const res = await fetch(new URL("/helloworld/kratos", enveloped.endpoint()), {
      headers: { accept: "application/proto" },
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("x-served-by"), "encoders");
    assert.deepEqual(await res.json(), { code: 0, data: { message: "Hello kratos" } });
    const reply = seen.at(-1);
    assert.equal(reply?.schema.typeName, "helloworld.v1.HelloReply");
    assert.equal(reply.codec.contentType, "application/proto");
    const created = await fetch(new URL("/v1/greetings", enveloped.endpoint()), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '{"name":"x"}',
    });
    assert.equal(created.status, 201);
    assert.deepEqual(await created.json(), { code: 0, data: { id: "5", name: "x" } });
  });

  it("routes errors, the handler's and the framework's, through the error encoder", async () => {
    const teapot = await fetch(new URL("/helloworld/boom", enveloped.endpoint()));
    assert.equal(teapot.status, 418);
    assert.deepEqual(await teapot.json(), { code: 418, reason: "TEAPOT", data: null });
    const noRoute = await fetch(new URL("/nowhere", enveloped.endpoint()));
    assert.deepEqual(await noRoute.json(), { code: 404, reason: "NOT_FOUND", data: null });
  });

  it("keeps Kratos's bare message and error body by default", async () => {
    const res = await fetch(new URL("/helloworld/kratos", bare.endpoint()));
    assert.deepEqual(await res.json(), { message: "Hello kratos" });
    const missing = await fetch(new URL("/v1/greetings/1", bare.endpoint()));
    assert.deepEqual(await missing.json(), {
      code: 404,
      reason: "GREETING_NOT_FOUND",
      message: "none",
      metadata: {},
    });
  });
});
