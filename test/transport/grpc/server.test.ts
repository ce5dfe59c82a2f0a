import assert from "node:assert/strict";
import http2 from "node:http2";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { after, before, describe, it } from "node:test";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import {
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
} from "@connectrpc/connect-node";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { fromError, KratosError } from "kratos-ts/errors";
import type { Middleware } from "kratos-ts/middleware";
import { serverTransport } from "kratos-ts/transport";
import { createGrpcServer } from "kratos-ts/transport/grpc";
import type { GrpcServer } from "kratos-ts/transport/grpc";
import { encodeEnvelope } from "../../../src/transport/grpc/envelope.js";
import {
  EchoService,
  SayRequestSchema,
  SayResponseSchema,
} from "../../fixtures/http/gen/echo/v1/echo_pb.js";
import { bin, repoRoot, runAsync } from "../../helpers/repo.js";

/** What the middleware saw, per call. */
const seen: { operation: string; kind: string; header: string | undefined; error?: unknown }[] = [];
const observe: Middleware = (next) =>
  async function observe(ctx, req) {
    const t = serverTransport(ctx);
    const entry: (typeof seen)[number] = {
      operation: t?.operation ?? "",
      kind: t?.kind ?? "",
      header: t?.requestHeader.get("x-md-trace"),
    };
    seen.push(entry);
    try {
      return await next(ctx, req);
    } catch (err) {
      entry.error = err;
      throw err;
    }
  };

let inFlight: { arrived: () => void; release: Promise<void> } | undefined;

function startEcho(options: Parameters<typeof createGrpcServer>[0] = {}): GrpcServer {
  const server = createGrpcServer({ addr: "127.0.0.1:0", middleware: [observe], ...options });
  server.register(EchoService, {
    async say(req, ctx) {
      const t = serverTransport(ctx);
      t?.replyHeader.set("x-reply", "r1");
      // Binary metadata arrives base64-encoded, as gRPC sends it; echo it back as binary.
      const bin = t?.requestHeader.get("x-trace-bin");
      if (bin !== undefined) t?.replyHeader.set("x-echo-bin", bin);
      if (inFlight !== undefined && req.sentence === "wait") {
        inFlight.arrived();
        await inFlight.release;
      }
      const headers: Record<string, string> = {};
      for (const key of t?.requestHeader.keys() ?? [])
        if (key.startsWith("x-md-")) headers[key] = t?.requestHeader.get(key) ?? "";
      return { sentence: req.sentence, headers };
    },
    fail(req) {
      return Promise.reject(
        new KratosError(req.code, req.reason, req.message, { metadata: req.metadata }),
      );
    },
    slow(_req, ctx) {
      return new Promise((_resolve, reject) => {
        ctx.signal.addEventListener("abort", () => {
          reject(ctx.signal.reason);
        });
      });
    },
    async *count(req) {
      for (let i = 1; i <= req.upTo; i++) {
        if (req.failAfter > 0 && i > req.failAfter)
          throw new KratosError(409, "COUNT_STOPPED", `stopped after ${req.failAfter}`);
        yield { number: i };
      }
    },
    async sum(reqs) {
      let total = 0n;
      let count = 0;
      for await (const r of reqs) {
        total += r.value;
        count++;
      }
      return { total, count };
    },
    async *chat(reqs) {
      for await (const r of reqs) yield { text: `echo: ${r.text}` };
    },
  });
  return server;
}

const protoPath = join(repoRoot, "test/fixtures/http/proto/echo/v1/echo.proto");

interface GrpcJsEcho extends grpc.Client {
  say(
    req: object,
    md: grpc.Metadata,
    opts: grpc.CallOptions,
    cb: (
      err: grpc.ServiceError | null,
      res?: { sentence: string; headers: Record<string, string> },
    ) => void,
  ): grpc.ClientUnaryCall;
  fail(req: object, cb: (err: grpc.ServiceError | null) => void): grpc.ClientUnaryCall;
  slow(
    req: object,
    md: grpc.Metadata,
    opts: grpc.CallOptions,
    cb: (err: grpc.ServiceError | null) => void,
  ): grpc.ClientUnaryCall;
  missing(req: object, cb: (err: grpc.ServiceError | null) => void): grpc.ClientUnaryCall;
  count(req: object): grpc.ClientReadableStream<{ number: number }>;
  sum(
    cb: (err: grpc.ServiceError | null, res?: { total: string; count: number }) => void,
  ): grpc.ClientWritableStream<object>;
  chat(): grpc.ClientDuplexStream<object, { text: string }>;
}

function grpcJsClient(target: string): GrpcJsEcho {
  const def = protoLoader.loadSync(protoPath, { longs: String, defaults: true });
  const pkg = grpc.loadPackageDefinition(def) as unknown as {
    echo: { v1: { EchoService: new (t: string, c: grpc.ChannelCredentials) => GrpcJsEcho } };
  };
  return new pkg.echo.v1.EchoService(target, grpc.credentials.createInsecure());
}

function promisify<T>(
  fn: (cb: (err: grpc.ServiceError | null, res?: T) => void) => void,
): Promise<T | undefined> {
  return new Promise((resolve, reject) => {
    fn((err, res) => {
      if (err !== null) reject(err);
      else resolve(res);
    });
  });
}

describe("gRPC server with @grpc/grpc-js", () => {
  let server: GrpcServer;
  let client: GrpcJsEcho;

  before(async () => {
    server = startEcho();
    await server.start();
    client = grpcJsClient(server.endpoint().host);
  });

  after(async () => {
    client.close();
    await server.stop();
  });

  it("calls a unary method with metadata in and out", async () => {
    const md = new grpc.Metadata();
    md.set("x-md-trace", "t-42");
    md.set("x-trace-bin", Buffer.from([0, 1, 2, 250]));
    let replyMd: grpc.Metadata | undefined;
    const res = await new Promise<{ sentence: string; headers: Record<string, string> }>(
      (resolve, reject) => {
        const call = client.say({ sentence: "hello" }, md, {}, (err, r) => {
          if (err !== null || r === undefined) reject(err ?? new Error("no reply"));
          else resolve(r);
        });
        call.on("metadata", (m) => {
          replyMd = m;
        });
      },
    );
    assert.equal(res.sentence, "hello");
    assert.equal(res.headers["x-md-trace"], "t-42");
    assert.ok(replyMd);
    assert.deepEqual(replyMd.get("x-reply"), ["r1"]);
    // -bin metadata round-trips as bytes.
    assert.deepEqual(replyMd.get("x-echo-bin"), [Buffer.from([0, 1, 2, 250])]);
  });

  it("answers a 1 MiB reply, its envelope prefix written apart from it", async () => {
    const big = "y".repeat(1024 * 1024);
    const res = await new Promise<{ sentence: string }>((resolve, reject) => {
      client.say({ sentence: big }, new grpc.Metadata(), {}, (err, r) => {
        if (err !== null || r === undefined) reject(err ?? new Error("no reply"));
        else resolve(r);
      });
    });
    assert.equal(res.sentence, big);
  });

  it("decodes the typed error from grpc-status-details-bin", async () => {
    await assert.rejects(
      promisify((cb) =>
        client.fail(
          { code: 404, reason: "USER_NOT_FOUND", message: "no user 7", metadata: { id: "7" } },
          cb,
        ),
      ),
      (err: grpc.ServiceError) => {
        assert.equal(err.code, grpc.status.NOT_FOUND);
        assert.equal(err.details, "no user 7");
        const typed = fromError(err);
        assert.deepEqual(typed.toStatus(), {
          code: 404,
          reason: "USER_NOT_FOUND",
          message: "no user 7",
          metadata: { id: "7" },
        });
        return true;
      },
    );
  });

  it("keeps a code without a gRPC twin through grpc-js", async () => {
    await assert.rejects(
      promisify((cb) => client.fail({ code: 422, reason: "UNPROCESSABLE", message: "bad" }, cb)),
      (err: grpc.ServiceError) => {
        assert.equal(err.code, grpc.status.UNKNOWN);
        assert.equal(fromError(err).code, 422);
        return true;
      },
    );
  });

  it("answers UNIMPLEMENTED for methods without an implementation", async () => {
    await assert.rejects(
      promisify((cb) => client.missing({}, cb)),
      (err: grpc.ServiceError) => err.code === grpc.status.UNIMPLEMENTED,
    );
  });

  it("turns grpc-timeout into a deadline (DEADLINE_EXCEEDED)", async () => {
    await assert.rejects(
      promisify((cb) => client.slow({}, new grpc.Metadata(), { deadline: Date.now() + 100 }, cb)),
      (err: grpc.ServiceError) => err.code === grpc.status.DEADLINE_EXCEEDED,
    );
  });

  it("streams from the server", async () => {
    const numbers: number[] = [];
    for await (const m of client.count({ upTo: 5 }) as AsyncIterable<{ number: number }>)
      numbers.push(m.number);
    assert.deepEqual(numbers, [1, 2, 3, 4, 5]);
  });

  it("ends a server stream with the typed error after some messages", async () => {
    const numbers: number[] = [];
    await assert.rejects(
      (async () => {
        for await (const m of client.count({ upTo: 5, failAfter: 2 }) as AsyncIterable<{
          number: number;
        }>)
          numbers.push(m.number);
      })(),
      (err: grpc.ServiceError) => {
        assert.equal(err.code, grpc.status.ABORTED);
        assert.equal(fromError(err).reason, "COUNT_STOPPED");
        return true;
      },
    );
    assert.deepEqual(numbers, [1, 2]);
  });

  it("streams from the client", async () => {
    const res = await new Promise<{ total: string; count: number } | undefined>(
      (resolve, reject) => {
        const call = client.sum((err, r) => {
          if (err !== null) reject(err);
          else resolve(r);
        });
        for (const v of [1, 2, 3, 40]) call.write({ value: v });
        call.end();
      },
    );
    assert.deepEqual(res, { total: "46", count: 4 });
  });

  it("streams both ways", async () => {
    const call = client.chat();
    const replies: string[] = [];
    const done = new Promise<void>((resolve, reject) => {
      call.on("data", (m: { text: string }) => replies.push(m.text));
      call.on("end", resolve);
      call.on("error", reject);
    });
    // "b" is above 64 KiB: a streamed message that large is written apart from its prefix.
    const big = "b".repeat(256 * 1024);
    for (const t of ["a", big, "c"]) call.write({ text: t });
    call.end();
    await done;
    assert.deepEqual(replies, ["echo: a", `echo: ${big}`, "echo: c"]);
  });

  it("reports health through grpc.health.v1", async () => {
    const def = protoLoader.loadSync(join(repoRoot, "third_party/grpc/health/v1/health.proto"), {
      enums: String,
    });
    const pkg = grpc.loadPackageDefinition(def) as unknown as {
      grpc: {
        health: {
          v1: {
            Health: new (
              t: string,
              c: grpc.ChannelCredentials,
            ) => grpc.Client & {
              check(
                r: object,
                cb: (e: grpc.ServiceError | null, r?: { status: string }) => void,
              ): void;
            };
          };
        };
      };
    };
    const health = new pkg.grpc.health.v1.Health(
      server.endpoint().host,
      grpc.credentials.createInsecure(),
    );
    try {
      for (const service of ["", "echo.v1.EchoService"]) {
        const r = await promisify<{ status: string }>((cb) => {
          health.check({ service }, cb);
        });
        assert.equal(r?.status, "SERVING");
      }
      await assert.rejects(
        promisify((cb) => {
          health.check({ service: "nope.Service" }, cb);
        }),
        (err: grpc.ServiceError) => err.code === grpc.status.NOT_FOUND,
      );
    } finally {
      health.close();
    }
  });

  it("lists services and describes them through reflection (buf curl)", async () => {
    const url = `http://${server.endpoint().host}`;
    const list = await runAsync(bin("buf"), [
      "curl",
      "--protocol",
      "grpc",
      "--http2-prior-knowledge",
      "--list-methods",
      url,
    ]);
    assert.equal(list.status, 0, list.stderr);
    assert.match(list.stdout, /echo\.v1\.EchoService\/Say/);
    assert.match(list.stdout, /grpc\.health\.v1\.Health\/Check/);
    const call = await runAsync(bin("buf"), [
      "curl",
      "--protocol",
      "grpc",
      "--http2-prior-knowledge",
      "-d",
      '{"sentence":"via reflection"}',
      `${url}/echo.v1.EchoService/Say`,
    ]);
    assert.equal(call.status, 0, call.stderr);
    assert.match(call.stdout, /"sentence": "via reflection"/);
  });

  it("lists services through reflection with grpc-js", async () => {
    const def = protoLoader.loadSync(
      join(repoRoot, "third_party/grpc/reflection/v1/reflection.proto"),
      {},
    );
    const pkg = grpc.loadPackageDefinition(def) as unknown as {
      grpc: {
        reflection: {
          v1: {
            ServerReflection: new (
              t: string,
              c: grpc.ChannelCredentials,
            ) => grpc.Client & {
              serverReflectionInfo(): grpc.ClientDuplexStream<
                object,
                {
                  listServicesResponse?: { service: { name: string }[] };
                  fileDescriptorResponse?: { fileDescriptorProto: Buffer[] };
                }
              >;
            };
          };
        };
      };
    };
    const reflection = new pkg.grpc.reflection.v1.ServerReflection(
      server.endpoint().host,
      grpc.credentials.createInsecure(),
    );
    try {
      const call = reflection.serverReflectionInfo();
      const replies: {
        listServicesResponse?: { service: { name: string }[] };
        fileDescriptorResponse?: { fileDescriptorProto: Buffer[] };
      }[] = [];
      const done = new Promise<void>((resolve, reject) => {
        call.on("data", (r: (typeof replies)[number]) => replies.push(r));
        call.on("end", resolve);
        call.on("error", reject);
      });
      call.write({ listServices: "" });
      call.write({ fileContainingSymbol: "echo.v1.EchoService" });
      call.end();
      await done;
      const names = replies[0]?.listServicesResponse?.service.map((x) => x.name) ?? [];
      assert.ok(names.includes("echo.v1.EchoService"), names.join(","));
      assert.ok(names.includes("grpc.health.v1.Health"));
      assert.ok(names.includes("grpc.reflection.v1.ServerReflection"));
      assert.ok((replies[1]?.fileDescriptorResponse?.fileDescriptorProto.length ?? 0) >= 1);
    } finally {
      reflection.close();
    }
  });

  it("lets middleware see the operation and metadata", () => {
    const says = seen.filter(
      (s) => s.operation === "/echo.v1.EchoService/Say" && s.header === "t-42",
    );
    assert.equal(says.length, 1);
    assert.equal(says[0]?.kind, "grpc");
    assert.ok(seen.some((s) => s.operation === "/echo.v1.EchoService/Count"));
    assert.ok(seen.some((s) => s.operation === "/echo.v1.EchoService/Chat"));
  });
});

describe("gRPC server with Connect clients", () => {
  let server: GrpcServer;
  let baseUrl: string;

  before(async () => {
    server = startEcho();
    await server.start();
    baseUrl = `http://${server.endpoint().host}`;
  });

  after(async () => {
    await server.stop();
  });

  const transports = {
    "Connect JSON over HTTP/1.1": () =>
      createConnectTransport({ baseUrl, httpVersion: "1.1", useBinaryFormat: false }),
    "Connect binary over HTTP/1.1": () => createConnectTransport({ baseUrl, httpVersion: "1.1" }),
    "Connect over h2c": () => createConnectTransport({ baseUrl, httpVersion: "2" }),
    "gRPC-Web over HTTP/1.1": () => createGrpcWebTransport({ baseUrl, httpVersion: "1.1" }),
    "gRPC via connect-node": () => createGrpcTransport({ baseUrl }),
  };

  for (const [name, makeTransport] of Object.entries(transports)) {
    it(`${name}: unary, server streaming, and the typed error`, async () => {
      const client = createClient(EchoService, makeTransport());
      const reply = await client.say({ sentence: name }, { headers: { "x-md-trace": "c-1" } });
      assert.equal(reply.sentence, name);
      assert.equal(reply.headers["x-md-trace"], "c-1");
      // A reply above 64 KiB is written apart from its envelope prefix or closing frame.
      const big = "x".repeat(1024 * 1024 - 100) + name;
      assert.equal((await client.say({ sentence: big })).sentence, big);
      const numbers: number[] = [];
      for await (const m of client.count({ upTo: 3 })) numbers.push(m.number);
      assert.deepEqual(numbers, [1, 2, 3]);
      await assert.rejects(
        client.fail({ code: 403, reason: "DENIED", message: "no", metadata: { a: "b" } }),
        (err: unknown) => {
          assert.ok(err instanceof ConnectError);
          assert.equal(err.code, Code.PermissionDenied);
          assert.deepEqual(fromError(err).toStatus(), {
            code: 403,
            reason: "DENIED",
            message: "no",
            metadata: { a: "b" },
          });
          return true;
        },
      );
    });
  }

  it("Connect over h2c: client and bidi streaming", async () => {
    const client = createClient(EchoService, createConnectTransport({ baseUrl, httpVersion: "2" }));
    async function* values() {
      for (const v of [5n, 6n]) yield { value: v };
    }
    const sum = await client.sum(values());
    assert.equal(sum.total, 11n);
    async function* texts() {
      yield { text: "x" };
      yield { text: "y" };
    }
    const replies: string[] = [];
    for await (const r of client.chat(texts())) replies.push(r.text);
    assert.deepEqual(replies, ["echo: x", "echo: y"]);
  });

  it("Connect JSON unary: Content-Length counts UTF-8 bytes of a non-ASCII reply", async () => {
    const sentence = "héllo, 世界 🌍";
    const res = await fetch(`${baseUrl}/echo.v1.EchoService/Say`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ sentence }),
    });
    assert.equal(res.status, 200);
    const bytes = Buffer.from(await res.arrayBuffer());
    assert.equal(Number(res.headers.get("content-length")), bytes.byteLength);
    assert.equal((JSON.parse(bytes.toString("utf8")) as { sentence: string }).sentence, sentence);
  });

  it("Connect unary: a content type in capitals still means JSON (media types ignore case)", async () => {
    const res = await fetch(`${baseUrl}/echo.v1.EchoService/Say`, {
      method: "POST",
      headers: { "content-type": "Application/JSON; charset=utf-8" },
      body: JSON.stringify({ sentence: "loud" }),
    });
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { sentence: string }).sentence, "loud");
  });

  it("Connect GET for unary calls", async () => {
    const message = encodeURIComponent(JSON.stringify({ sentence: "by get" }));
    const res = await fetch(
      `${baseUrl}/echo.v1.EchoService/Say?encoding=json&message=${message}&connect=v1`,
    );
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { sentence: string }).sentence, "by get");
  });
});

/** Sends one raw h2 request and returns its response headers, trailers and body. */
function rawH2(
  url: string,
  headers: http2.OutgoingHttpHeaders,
  body: Uint8Array,
): Promise<{
  headers: http2.IncomingHttpHeaders;
  trailers: http2.IncomingHttpHeaders;
  body: Buffer;
}> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(url);
    session.on("error", reject);
    const req = session.request({ ":method": "POST", ...headers });
    let head: http2.IncomingHttpHeaders = {};
    let trailers: http2.IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    req.on("response", (h) => {
      head = h;
    });
    req.on("trailers", (t: http2.IncomingHttpHeaders) => {
      trailers = t;
    });
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      session.close();
      resolve({ headers: head, trailers, body: Buffer.concat(chunks) });
    });
    req.on("error", reject);
    req.end(body);
  });
}

describe("gRPC server bad input", () => {
  let server: GrpcServer;
  let url: string;

  before(async () => {
    server = startEcho({ maxMessageBytes: 1024 });
    await server.start();
    url = `http://${server.endpoint().host}`;
  });

  after(async () => {
    await server.stop();
  });

  const grpcHeaders = {
    ":path": "/echo.v1.EchoService/Say",
    "content-type": "application/grpc",
    te: "trailers",
  };
  const statusOf = (r: {
    headers: http2.IncomingHttpHeaders;
    trailers: http2.IncomingHttpHeaders;
  }) => {
    const h = r.trailers["grpc-status"] ?? r.headers["grpc-status"];
    const details = (r.trailers["grpc-status-details-bin"] ??
      r.headers["grpc-status-details-bin"]) as string | undefined;
    const message = (r.trailers["grpc-message"] ?? r.headers["grpc-message"]) as string | undefined;
    return {
      code: Number(h),
      message: decodeURIComponent(message ?? ""),
      error: fromError(
        Object.assign(new Error("x"), {
          code: Number(h),
          details: decodeURIComponent(message ?? ""),
          metadata: {
            get: (k: string) =>
              k === "grpc-status-details-bin" && details !== undefined
                ? [Buffer.from(details, "base64")]
                : [],
          },
        }),
      ),
    };
  };
  const good = toBinary(SayRequestSchema, create(SayRequestSchema, { sentence: "ok" }));

  const cases: {
    name: string;
    headers?: http2.OutgoingHttpHeaders;
    body: Uint8Array;
    code: number;
    reason: string;
  }[] = [
    {
      name: "malformed protobuf",
      body: encodeEnvelope(0, new Uint8Array([0x0a, 0xff, 0xff])),
      code: 3,
      reason: "CODEC",
    },
    {
      name: "a truncated frame",
      body: encodeEnvelope(0, good).subarray(0, 6),
      code: 3,
      reason: "CODEC",
    },
    {
      name: "two messages for a unary method",
      body: Buffer.concat([encodeEnvelope(0, good), encodeEnvelope(0, good)]),
      code: 3,
      reason: "CODEC",
    },
    { name: "no message", body: new Uint8Array(), code: 3, reason: "CODEC" },
    {
      name: "an oversized message",
      body: encodeEnvelope(
        0,
        toBinary(SayRequestSchema, create(SayRequestSchema, { blob: new Uint8Array(2000) })),
      ),
      code: 8,
      reason: "PAYLOAD_TOO_LARGE",
    },
    {
      name: "an unsupported compression",
      headers: { "grpc-encoding": "snappy" },
      body: encodeEnvelope(1, good),
      code: 12,
      reason: "",
    },
    {
      name: "a compressed frame without an encoding",
      body: encodeEnvelope(1, good),
      code: 3,
      reason: "CODEC",
    },
  ];
  for (const c of cases) {
    it(`answers ${c.name} with gRPC code ${c.code} and reason "${c.reason}", and keeps serving`, async () => {
      const before = seen.length;
      const r = await rawH2(url, { ...grpcHeaders, ...c.headers }, c.body);
      const status = statusOf(r);
      assert.equal(status.code, c.code, status.message);
      assert.equal(status.error.reason, c.reason);
      if (c.code !== 12) {
        // The middleware chain saw the decode error.
        const calls = seen.slice(before);
        assert.ok(
          calls.some((s) => s.error instanceof KratosError),
          "middleware saw the error",
        );
      }
      const ok = await rawH2(url, grpcHeaders, encodeEnvelope(0, good));
      assert.equal(statusOf(ok).code, 0);
    });
  }

  it("answers an unknown content type with 415", async () => {
    const r = await rawH2(
      url,
      { ":path": "/echo.v1.EchoService/Say", "content-type": "text/plain" },
      new Uint8Array(),
    );
    assert.equal(r.headers[":status"], 415);
    const missing = await rawH2(url, { ":path": "/echo.v1.EchoService/Say" }, new Uint8Array());
    assert.equal(missing.headers[":status"], 415);
  });

  it("decompresses gzip messages", async () => {
    const r = await rawH2(
      url,
      { ...grpcHeaders, "grpc-encoding": "gzip" },
      encodeEnvelope(1, gzipSync(good)),
    );
    assert.equal(statusOf(r).code, 0);
  });
});

describe("gRPC server response heads", () => {
  let server: GrpcServer;
  let url: string;

  before(async () => {
    server = startEcho();
    await server.start();
    url = `http://${server.endpoint().host}`;
  });

  after(async () => {
    await server.stop();
  });

  const request = toBinary(SayRequestSchema, create(SayRequestSchema, { sentence: "head" }));

  it("sends gRPC heads with reply metadata and without a date, as grpc-go does", async () => {
    const r = await rawH2(
      url,
      {
        ":path": "/echo.v1.EchoService/Say",
        "content-type": "application/grpc",
        te: "trailers",
      },
      encodeEnvelope(0, request),
    );
    assert.equal(r.headers[":status"], 200);
    assert.equal(r.headers["content-type"], "application/grpc+proto");
    assert.equal(r.headers["x-reply"], "r1");
    assert.equal(r.headers.date, undefined);
    assert.equal(r.trailers["grpc-status"], "0");
    const reply = fromBinary(SayResponseSchema, r.body.subarray(5));
    assert.equal(reply.sentence, "head");
    // A trailers-only answer carries no date either.
    const missing = await rawH2(
      url,
      { ":path": "/echo.v1.EchoService/Nope", "content-type": "application/grpc", te: "trailers" },
      encodeEnvelope(0, request),
    );
    assert.equal(missing.headers["grpc-status"], "12");
    assert.equal(missing.headers.date, undefined);
  });

  it("keeps the date on Connect over h2c, an HTTP response like any other", async () => {
    const r = await rawH2(
      url,
      { ":path": "/echo.v1.EchoService/Say", "content-type": "application/proto" },
      request,
    );
    assert.equal(r.headers[":status"], 200);
    assert.equal(r.headers["content-type"], "application/proto");
    assert.ok(typeof r.headers.date === "string" && r.headers.date.endsWith(" GMT"));
    assert.equal(fromBinary(SayResponseSchema, r.body).sentence, "head");
  });
});

describe("gRPC server lifecycle", () => {
  it("finishes in-flight calls on stop and turns health NOT_SERVING first", async () => {
    let arrived: () => void = () => undefined;
    let release: () => void = () => undefined;
    const arrival = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    inFlight = {
      arrived,
      release: new Promise<void>((resolve) => {
        release = resolve;
      }),
    };
    const server = startEcho();
    await server.start();
    const client = createClient(
      EchoService,
      createGrpcTransport({ baseUrl: `http://${server.endpoint().host}` }),
    );
    try {
      const pending = client.say({ sentence: "wait" });
      await arrival;
      const stopped = server.stop();
      release();
      assert.equal((await pending).sentence, "wait");
      await stopped;
      await assert.rejects(client.say({ sentence: "after stop" }));
    } finally {
      inFlight = undefined;
    }
  });

  it("serves the same service object as the HTTP server would, with the endpoint scheme grpc://", async () => {
    const server = startEcho();
    await server.start();
    try {
      assert.equal(server.endpoint().protocol, "grpc:");
    } finally {
      await server.stop();
    }
  });
});
