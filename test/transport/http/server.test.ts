import assert from "node:assert/strict";
import { request as httpRequest } from "node:http";
import { after, before, describe, it } from "node:test";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import type { DescMessage, MessageInitShape, MessageShape } from "@bufbuild/protobuf";
import { EmptySchema } from "@bufbuild/protobuf/wkt";
import { KratosError, notFound } from "kratos-ts/errors";
import { StatusSchema } from "kratos-ts/gen/errors/errors_pb.js";
import type { Context } from "../../../src/context.js";
import type { Middleware } from "../../../src/middleware/middleware.js";
import { serverTransport } from "../../../src/transport/transport.js";
import { createHttpServer } from "../../../src/transport/http/server.js";
import type { HttpServer } from "../../../src/transport/http/server.js";
import type { HttpServerOptions } from "../../../src/transport/http/server-api.js";
import { setResponseStatus } from "../../../src/transport/http/transporter.js";
import {
  BookSchema,
  CancelBookRequestSchema,
  CreateBookRequestSchema,
  DeleteBookRequestSchema,
  EchoRequestSchema,
  GetShelfRequestSchema,
  ListBooksRequestSchema,
  ListBooksResponseSchema,
  ShelfSchema,
  UploadRequestSchema,
} from "../../fixtures/http/gen/bookstore/v1/bookstore_pb.js";
import { HttpBodySchema } from "kratos-ts/gen/google/api/httpbody_pb.js";

/** A started server and its base URL; `stop` waits for every connection to close. */
async function startServer(
  options: HttpServerOptions,
  setup: (server: HttpServer) => void,
): Promise<{ server: HttpServer; url: string }> {
  const server = createHttpServer({ addr: "127.0.0.1:0", ...options });
  setup(server);
  await server.start();
  return { server, url: server.endpoint().href.replace(/\/$/, "") };
}

function route<I extends DescMessage, O extends DescMessage>(
  server: HttpServer,
  method: string,
  path: string,
  input: I,
  output: O,
  handler: (req: MessageShape<I>, ctx: Context) => Promise<MessageShape<O> | MessageInitShape<O>>,
  extra: { body?: string; responseBody?: string; operation?: string } = {},
): void {
  server.route({
    method,
    path,
    input,
    output,
    operation: extra.operation ?? `/bookstore.v1.Bookstore/${method}${path}`,
    handler,
    ...(extra.body === undefined ? {} : { body: extra.body }),
    ...(extra.responseBody === undefined ? {} : { responseBody: extra.responseBody }),
  });
}

interface ErrorBody {
  code: number;
  reason: string;
  message: string;
  metadata: Record<string, string>;
}

async function errorOf(res: Response): Promise<ErrorBody> {
  assert.match(res.headers.get("content-type") ?? "", /application\/json/);
  return (await res.json()) as ErrorBody;
}

describe("HTTP server", () => {
  const seen: { operation: string; header: string | undefined; error: unknown }[] = [];
  const observe: Middleware = (next) =>
    async function observe(ctx, req) {
      const t = serverTransport(ctx);
      const entry = {
        operation: t?.operation ?? "",
        header: t?.requestHeader.get("x-trace"),
        error: undefined as unknown,
      };
      seen.push(entry);
      try {
        return await next(ctx, req);
      } catch (err) {
        entry.error = err;
        throw err;
      }
    };
  let server: HttpServer;
  let url: string;

  before(async () => {
    ({ server, url } = await startServer(
      { middleware: [observe], maxBodyBytes: 1024, timeout: 5_000 },
      (s) => {
        route(s, "GET", "/v1/shelves/{shelf_id}", GetShelfRequestSchema, ShelfSchema, (req) =>
          req.shelfId === 404n
            ? Promise.reject(
                notFound("SHELF_NOT_FOUND", "no shelf 404", { metadata: { id: "404" } }),
              )
            : Promise.resolve({ id: req.shelfId, theme: "" }),
        );
        route(s, "GET", "/v1/echo", EchoRequestSchema, EchoRequestSchema, (req) =>
          Promise.resolve(req),
        );
        route(
          s,
          "POST",
          "/v1/shelves/{shelf_id}/books",
          CreateBookRequestSchema,
          BookSchema,
          (req, ctx) => {
            setResponseStatus(ctx, 201);
            serverTransport(ctx)?.replyHeader.set("location", `/v1/books/${req.book?.id ?? ""}`);
            const book = req.book ?? create(BookSchema);
            return Promise.resolve({
              id: book.id,
              genre: book.genre,
              name: `shelves/${req.shelfId}/books/${book.id}`,
              title: `${book.title}|${req.requestId}`,
            });
          },
          { body: "book" },
        );
        route(s, "DELETE", "/v1/books/{id}", DeleteBookRequestSchema, EmptySchema, (_req, ctx) => {
          setResponseStatus(ctx, 204);
          return Promise.resolve({});
        });
        route(
          s,
          "POST",
          "/v1/books/{id}:cancel",
          CancelBookRequestSchema,
          BookSchema,
          (req) => Promise.resolve({ id: req.id, title: `cancelled: ${req.reason}` }),
          { body: "*" },
        );
        route(s, "GET", "/v1/books/{id}", CancelBookRequestSchema, BookSchema, (req) =>
          Promise.resolve({ id: req.id, title: "plain" }),
        );
        route(
          s,
          "GET",
          "/v1/shelves/{shelf_id}/books",
          ListBooksRequestSchema,
          ListBooksResponseSchema,
          (req) =>
            Promise.resolve({ books: [{ id: `${req.shelfId}-1` }, { id: `${req.shelfId}-2` }] }),
          { responseBody: "books" },
        );
        route(
          s,
          "POST",
          "/v1/files/{path=**}",
          UploadRequestSchema,
          HttpBodySchema,
          (req) =>
            Promise.resolve({
              contentType: "text/plain",
              data: new TextEncoder().encode(
                `${req.path}:${req.file?.contentType ?? ""}:${new TextDecoder().decode(req.file?.data)}`,
              ),
            }),
          { body: "file" },
        );
        route(s, "GET", "/v1/throw/{id}", CancelBookRequestSchema, BookSchema, (req) => {
          if (req.id === "sync") throw new Error("sync boom");
          return Promise.reject(new Error("async boom"));
        });
        route(s, "GET", "/v1/slow/{id}", CancelBookRequestSchema, BookSchema, (_req, ctx) => {
          return new Promise((_resolve, reject) => {
            ctx.signal.addEventListener("abort", () => {
              reject(ctx.signal.reason);
            });
          });
        });
        s.handle("GET", "/raw/{name}", (req, res) => {
          res.writeHead(200, { "content-type": "text/plain" });
          res.end(`raw ${req.url ?? ""}`);
        });
        s.handle(
          "GET",
          "/raw-mw",
          (_req, res, ctx) => {
            res.writeHead(200, { "content-type": "text/plain" });
            res.end(`op ${serverTransport(ctx)?.operation ?? ""}`);
          },
          { middleware: true, operation: "/raw/Metrics" },
        );
      },
    ));
  });

  after(async () => {
    await server.stop();
  });

  it("binds a path variable and emits fields at their defaults", async () => {
    const res = await fetch(`${url}/v1/shelves/12`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "application/json");
    assert.deepEqual(await res.json(), { id: "12", theme: "" });
  });

  it("binds every query type", async () => {
    const q = new URLSearchParams([
      ["s", "hi there"],
      ["i32", "-7"],
      ["i64", "9007199254740993"],
      ["u32", "4294967295"],
      ["u64", "18446744073709551615"],
      ["s32", "-3"],
      ["f64", "5"],
      ["f", "1.5"],
      ["d", "-2.25"],
      ["b", "true"],
      ["by", "aGk="],
      ["genre", "GENRE_HISTORY"],
      ["tags", "a"],
      ["tags", "b"],
      ["ids", "1"],
      ["ids", "2"],
      ["genres", "1"],
      ["genres", "GENRE_HISTORY"],
      ["nested.a", "x"],
      ["nested.deep.x", "9"],
      ["ts", "2024-01-02T03:04:05Z"],
      ["dur", "1.5s"],
      ["mask", "a,b.c"],
      ["wi", "42"],
      ["ws", "wrapped"],
      ["wb", "false"],
      ["altB", "8"],
      ["opt", ""],
      ["userName", "json-name"],
      ["unknown", "ignored"],
    ]);
    const res = await fetch(`${url}/v1/echo?${q.toString()}`);
    assert.equal(res.status, 200, await res.clone().text());
    const body = (await res.json()) as Record<string, unknown>;
    assert.deepEqual(body, {
      s: "hi there",
      i32: -7,
      i64: "9007199254740993",
      u32: 4294967295,
      u64: "18446744073709551615",
      s32: -3,
      f64: "5",
      f: 1.5,
      d: -2.25,
      b: true,
      by: "aGk=",
      genre: "GENRE_HISTORY",
      tags: ["a", "b"],
      ids: ["1", "2"],
      genres: ["GENRE_FICTION", "GENRE_HISTORY"],
      nested: { a: "x", deep: { x: 9 } },
      ts: "2024-01-02T03:04:05Z",
      dur: "1.500s",
      mask: "a,b.c",
      wi: 42,
      ws: "wrapped",
      wb: false,
      altB: 8,
      opt: "",
      labels: {},
      userName: "json-name",
    });
  });

  it("fills the body field, binds the path, keeps query fields, answers 201 with reply headers", async () => {
    const res = await fetch(`${url}/v1/shelves/3/books?requestId=r-1`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ id: "b1", title: "Dune", genre: "GENRE_FICTION", unknownField: 1 }),
    });
    assert.equal(res.status, 201);
    assert.equal(res.headers.get("location"), "/v1/books/b1");
    const book = (await res.json()) as Record<string, unknown>;
    assert.equal(book.name, "shelves/3/books/b1");
    assert.equal(book.title, "Dune|r-1");
    assert.equal(book.genre, "GENRE_FICTION");
  });

  it("speaks binary protobuf when asked, typed application/proto as Go Kratos reads it", async () => {
    const res = await fetch(`${url}/v1/shelves/4/books`, {
      method: "POST",
      headers: { "content-type": "application/x-protobuf", accept: "application/x-protobuf" },
      body: toBinary(BookSchema, create(BookSchema, { id: "p1", title: "Proto" })),
    });
    assert.equal(res.status, 201);
    assert.equal(res.headers.get("content-type"), "application/proto");
    const book = fromBinary(BookSchema, new Uint8Array(await res.arrayBuffer()));
    assert.equal(book.name, "shelves/4/books/p1");
  });

  it("accepts form bodies", async () => {
    const res = await fetch(`${url}/v1/books/f1:cancel`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "reason=too+long",
    });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), {
      id: "f1",
      name: "",
      title: "cancelled: too long",
      genre: "GENRE_UNSPECIFIED",
      authors: [],
    });
  });

  it("routes a custom verb apart from the plain route", async () => {
    const cancel = await fetch(`${url}/v1/books/x:cancel`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    assert.equal(((await cancel.json()) as { title: string }).title, "cancelled: ");
    const plain = await fetch(`${url}/v1/books/x:other`);
    assert.deepEqual(((await plain.json()) as { id: string; title: string }).id, "x:other");
  });

  it("answers 204 without a body", async () => {
    const res = await fetch(`${url}/v1/books/z`, { method: "DELETE" });
    assert.equal(res.status, 204);
    assert.equal(await res.text(), "");
  });

  it("writes only the response_body field", async () => {
    const res = await fetch(`${url}/v1/shelves/7/books`);
    const books = (await res.json()) as { id: string }[];
    assert.deepEqual(
      books.map((b) => b.id),
      ["7-1", "7-2"],
    );
  });

  it("passes raw bodies in and out as google.api.HttpBody", async () => {
    const res = await fetch(`${url}/v1/files/a/b/c.txt`, {
      method: "POST",
      headers: { "content-type": "text/csv" },
      body: "x,y",
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "text/plain");
    assert.equal(await res.text(), "a/b/c.txt:text/csv:x,y");
  });

  it("answers a service error with the Kratos body and status", async () => {
    const res = await fetch(`${url}/v1/shelves/404`);
    assert.equal(res.status, 404);
    assert.deepEqual(await errorOf(res), {
      code: 404,
      reason: "SHELF_NOT_FOUND",
      message: "no shelf 404",
      metadata: { id: "404" },
    });
  });

  it("reads repeated Accept headers as one list", async () => {
    const { status, type, body } = await new Promise<{
      status: number;
      type: string;
      body: Buffer;
    }>((resolve, reject) => {
      // Two Accept lines: the second names protobuf, with the higher weight.
      const req = httpRequest(`${url}/v1/shelves/12`, {
        headers: { accept: ["application/json;q=0.5", "application/x-protobuf"] },
      });
      req.on("response", (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          resolve({
            status: res.statusCode ?? 0,
            type: res.headers["content-type"] ?? "",
            body: Buffer.concat(chunks),
          });
        });
      });
      req.on("error", reject);
      req.end();
    });
    assert.equal(status, 200);
    assert.equal(type, "application/proto");
    assert.equal(fromBinary(ShelfSchema, body).id, 12n);
  });

  it("answers errors in binary errors.Status to protobuf clients", async () => {
    const res = await fetch(`${url}/v1/shelves/404`, {
      headers: { accept: "application/x-protobuf" },
    });
    assert.equal(res.status, 404);
    const status = fromBinary(StatusSchema, new Uint8Array(await res.arrayBuffer()));
    assert.equal(status.reason, "SHELF_NOT_FOUND");
  });

  it("turns thrown errors, sync or async, into 500 UNKNOWN-style bodies", async () => {
    for (const id of ["sync", "async"]) {
      const res = await fetch(`${url}/v1/throw/${id}`);
      assert.equal(res.status, 500);
      const body = await errorOf(res);
      assert.equal(body.reason, "");
      assert.equal(body.message, `${id} boom`);
    }
  });

  it("serves raw handlers, with and without the middleware chain", async () => {
    const raw = await fetch(`${url}/raw/x?y=1`);
    assert.equal(await raw.text(), "raw /raw/x?y=1");
    const before = seen.length;
    const withMw = await fetch(`${url}/raw-mw`, { headers: { "x-trace": "t-raw" } });
    assert.equal(await withMw.text(), "op /raw/Metrics");
    assert.deepEqual(
      seen.slice(before).map((s) => [s.operation, s.header]),
      [["/raw/Metrics", "t-raw"]],
    );
  });

  it("lets middleware see the operation and the request headers", async () => {
    const before = seen.length;
    await (await fetch(`${url}/v1/shelves/1`, { headers: { "x-trace": "t-1" } })).text();
    assert.deepEqual(
      seen.slice(before).map((s) => [s.operation, s.header]),
      [["/bookstore.v1.Bookstore/GET/v1/shelves/{shelf_id}", "t-1"]],
    );
  });

  it("aborts the context at the deadline", async () => {
    const { server: s, url: u } = await startServer({ timeout: 50 }, (srv) => {
      route(srv, "GET", "/slow", CancelBookRequestSchema, BookSchema, (_req, ctx) => {
        assert.ok(ctx.deadline !== undefined);
        return new Promise((_resolve, reject) => {
          ctx.signal.addEventListener("abort", () => {
            reject(ctx.signal.reason);
          });
        });
      });
    });
    try {
      const res = await fetch(`${u}/slow`);
      assert.equal(res.status, 504);
      assert.equal((await errorOf(res)).message, "deadline exceeded");
    } finally {
      await s.stop();
    }
  });

  describe("bad input", () => {
    const cases: {
      name: string;
      path: string;
      init?: RequestInit;
      status: number;
      reason: string;
      message?: RegExp;
    }[] = [
      {
        name: "a path value of the wrong type",
        path: "/v1/shelves/abc",
        status: 400,
        reason: "CODEC",
        message: /path parameter "shelf_id": "abc" is not an integer/,
      },
      {
        name: "an out-of-range integer",
        path: "/v1/echo?i32=2147483648",
        status: 400,
        reason: "CODEC",
        message: /query parameter "i32": 2147483648 is out of range/,
      },
      {
        name: "a bad enum name",
        path: "/v1/echo?genre=GENRE_POETRY",
        status: 400,
        reason: "CODEC",
        message: /not a value of bookstore\.v1\.Genre/,
      },
      {
        name: "a bad boolean",
        path: "/v1/echo?b=maybe",
        status: 400,
        reason: "CODEC",
        message: /not a boolean/,
      },
      { name: "a bad timestamp", path: "/v1/echo?ts=yesterday", status: 400, reason: "CODEC" },
      {
        name: "a map field in the query",
        path: "/v1/echo?labels=x",
        status: 400,
        reason: "CODEC",
        message: /map fields/,
      },
      {
        name: "malformed JSON",
        path: "/v1/shelves/1/books",
        init: {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: "{not json",
        },
        status: 400,
        reason: "CODEC",
        message: /cannot decode json body/,
      },
      {
        name: "malformed protobuf",
        path: "/v1/shelves/1/books",
        init: {
          method: "POST",
          headers: { "content-type": "application/x-protobuf" },
          body: new Uint8Array([0x0a, 0xff, 0xff]),
        },
        status: 400,
        reason: "CODEC",
        message: /cannot decode proto body/,
      },
      {
        name: "an unsupported content type",
        path: "/v1/shelves/1/books",
        init: { method: "POST", headers: { "content-type": "text/xml" }, body: "<book/>" },
        status: 400,
        reason: "CODEC",
        message: /unsupported content type "text\/xml"/,
      },
      {
        name: "an oversized body",
        path: "/v1/shelves/1/books",
        init: {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ title: "x".repeat(2000) }),
        },
        status: 413,
        reason: "PAYLOAD_TOO_LARGE",
      },
      {
        // No Content-Type means JSON (as in Kratos); a body that is not JSON is a CODEC error.
        name: "a missing content type with a body that is not JSON",
        path: "/v1/shelves/1/books",
        init: { method: "POST", body: new TextEncoder().encode("title=x") },
        status: 400,
        reason: "CODEC",
        message: /cannot decode json body/,
      },
      {
        name: "an unknown route",
        path: "/nope",
        status: 404,
        reason: "NOT_FOUND",
        message: /no route for GET \/nope/,
      },
      {
        name: "a wrong method",
        path: "/v1/echo",
        init: { method: "PUT", body: "{}" },
        status: 405,
        reason: "METHOD_NOT_ALLOWED",
      },
    ];
    for (const c of cases) {
      it(`answers ${c.name} with ${c.status} ${c.reason} and keeps serving`, async () => {
        const res = await fetch(`${url}${c.path}`, c.init);
        assert.equal(res.status, c.status);
        const body = await errorOf(res);
        assert.equal(body.code, c.status);
        assert.equal(body.reason, c.reason);
        if (c.message !== undefined) assert.match(body.message, c.message);
        const ok = await fetch(`${url}/v1/shelves/1`);
        assert.equal(ok.status, 200);
        await ok.text();
      });
    }

    it("lists the allowed methods on 405", async () => {
      const res = await fetch(`${url}/v1/books/x`, { method: "PUT" });
      assert.equal(res.status, 405);
      assert.match(res.headers.get("allow") ?? "", /GET/);
      assert.match(res.headers.get("allow") ?? "", /DELETE/);
    });

    it("runs the middleware chain around decode errors (Kratos #938)", async () => {
      const before = seen.length;
      await (
        await fetch(`${url}/v1/shelves/1/books`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: "{broken",
        })
      ).text();
      const calls = seen.slice(before);
      assert.equal(calls.length, 1);
      assert.ok(calls[0]?.error instanceof KratosError);
      assert.equal(calls[0].error.reason, "CODEC");
    });
  });
});

describe("HTTP server lifecycle", () => {
  it("finishes in-flight requests on stop, then refuses connections", async () => {
    let release: () => void = () => undefined;
    let arrived: () => void = () => undefined;
    const arrival = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    const { server, url } = await startServer({}, (s) => {
      route(s, "GET", "/wait", CancelBookRequestSchema, BookSchema, () => {
        arrived();
        return new Promise((resolve) => {
          release = () => {
            resolve({ title: "done" });
          };
        });
      });
    });
    const pending = fetch(`${url}/wait`);
    await arrival;
    const stopped = server.stop();
    release();
    const res = await pending;
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { title: string }).title, "done");
    await stopped;
    await assert.rejects(fetch(`${url}/wait`));
  });

  it("closes remaining connections when the stop signal aborts", async () => {
    let arrived: () => void = () => undefined;
    const arrival = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    let aborted: unknown;
    const { server, url } = await startServer({}, (s) => {
      route(s, "GET", "/hang", CancelBookRequestSchema, BookSchema, (_req, ctx) => {
        arrived();
        return new Promise((_resolve, reject) => {
          ctx.signal.addEventListener("abort", () => {
            aborted = ctx.signal.reason;
            reject(ctx.signal.reason);
          });
        });
      });
    });
    const pending = fetch(`${url}/hang`).then(
      () => "answered",
      () => "cut",
    );
    await arrival;
    const controller = new AbortController();
    const stopped = server.stop(controller.signal);
    controller.abort();
    await stopped;
    assert.equal(await pending, "cut");
    assert.ok(aborted instanceof DOMException);
  });

  it("uses the prefix and runs filters before routing", async () => {
    const order: string[] = [];
    const { server, url } = await startServer(
      {
        prefix: "/api",
        filters: [
          (req, _res, next) => {
            order.push(`filter ${req.url ?? ""}`);
            next();
          },
          (req, res, next) => {
            if (req.headers["x-block"] !== undefined) {
              res.writeHead(403).end();
              return;
            }
            next();
          },
        ],
      },
      (s) => {
        route(s, "GET", "/v1/shelves/{shelf_id}", GetShelfRequestSchema, ShelfSchema, (req) =>
          Promise.resolve({ id: req.shelfId }),
        );
      },
    );
    try {
      const res = await fetch(`${url}/api/v1/shelves/5`);
      assert.deepEqual(await res.json(), { id: "5", theme: "" });
      assert.deepEqual(order, ["filter /api/v1/shelves/5"]);
      assert.equal((await fetch(`${url}/v1/shelves/5`)).status, 404);
      assert.equal(
        (await fetch(`${url}/api/v1/shelves/5`, { headers: { "x-block": "1" } })).status,
        403,
      );
    } finally {
      await server.stop();
    }
  });

  it("aborts the handler's signal when the client goes away", async () => {
    let arrived: () => void = () => undefined;
    const arrival = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    let sawAbort: () => void = () => undefined;
    const abortSeen = new Promise<void>((resolve) => {
      sawAbort = resolve;
    });
    const { server, url } = await startServer({}, (s) => {
      route(s, "GET", "/hang", CancelBookRequestSchema, BookSchema, (_req, ctx) => {
        arrived();
        return new Promise((_resolve, reject) => {
          ctx.signal.addEventListener("abort", () => {
            sawAbort();
            reject(ctx.signal.reason);
          });
        });
      });
    });
    try {
      const req = httpRequest(`${url}/hang`);
      req.on("error", () => undefined);
      req.end();
      await arrival;
      req.destroy();
      await abortSeen;
    } finally {
      await server.stop();
    }
  });

  it("refuses routes it cannot serve, naming the route", () => {
    const server = createHttpServer();
    assert.throws(() => {
      route(server, "GET", "/v1/{missing}", GetShelfRequestSchema, ShelfSchema, () =>
        Promise.resolve({}),
      );
    }, /GET \/v1\/\{missing\}.*has no field "missing"/);
    assert.throws(() => {
      route(server, "GET", "/v1/{shelf_id", GetShelfRequestSchema, ShelfSchema, () =>
        Promise.resolve({}),
      );
    }, /unclosed \{/);
  });
});
