import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { create, equals } from "@bufbuild/protobuf";
import type { DescMessage, Message, MessageInitShape } from "@bufbuild/protobuf";
import { KratosError, notFound } from "kratos-ts/errors";
import type { Middleware } from "kratos-ts/middleware";
import { clientTransport, serverTransport } from "kratos-ts/transport";
import {
  createFetchHttpClient,
  createHttpClient,
  createHttpServer,
} from "kratos-ts/transport/http";
import type { HttpClient, HttpServer } from "kratos-ts/transport/http";
import {
  CancelBookRequestSchema,
  CreateBookRequestSchema,
  DeleteBookRequestSchema,
  EchoRequestSchema,
  Genre,
  GetBookRequestSchema,
  GetShelfRequestSchema,
  ListBooksRequestSchema,
  ReportRequestSchema,
  SearchBooksRequestSchema,
  ShelfSchema,
  UpdateBookRequestSchema,
  UploadRequestSchema,
} from "../../fixtures/http/gen/bookstore/v1/bookstore_pb.js";
import {
  createBookstoreHTTPClient,
  registerBookstoreHTTPServer,
} from "../../fixtures/http/gen/bookstore/v1/bookstore_http.js";
import type {
  BookstoreHTTPClient,
  BookstoreHTTPServer,
} from "../../fixtures/http/gen/bookstore/v1/bookstore_http.js";

/** What the server received last, by method. */
const received = new Map<string, Message>();

function keep<T extends Message>(name: string, req: T): T {
  received.set(name, req);
  return req;
}

const impl: BookstoreHTTPServer = {
  getShelf: (req) => Promise.resolve({ id: keep("getShelf", req).shelfId, theme: "t" }),
  getBook: (req) => {
    if (req.name === "shelves/0/books/0")
      return Promise.reject(
        notFound("BOOK_NOT_FOUND", "no book 0", { metadata: { name: req.name } }),
      );
    return Promise.resolve({ name: keep("getBook", req).name });
  },
  createBook: (req) => Promise.resolve(keep("createBook", req).book ?? {}),
  updateBook: (req) => Promise.resolve(keep("updateBook", req).book ?? {}),
  deleteBook: (req) => {
    keep("deleteBook", req);
    return Promise.resolve({});
  },
  putShelf: (req) => Promise.resolve(keep("putShelf", req)),
  cancelBook: (req) => Promise.resolve({ id: keep("cancelBook", req).id, title: req.reason }),
  searchBooks: (req) => Promise.resolve({ books: [{ title: keep("searchBooks", req).query }] }),
  listBooks: (req) =>
    Promise.resolve({
      books: [{ id: `${keep("listBooks", req).shelfId}-a` }, { id: "b" }],
      nextPageToken: "dropped by response_body",
    }),
  upload: (req) => {
    keep("upload", req);
    return Promise.resolve({
      contentType: "application/x-echo",
      data: req.file?.data ?? new Uint8Array(),
    });
  },
  report: (req) => Promise.resolve({ id: keep("report", req).id, format: req.format }),
  echo: (req) => Promise.resolve(keep("echo", req)),
};

function assertReceived<D extends DescMessage>(
  name: string,
  schema: D,
  sent: MessageInitShape<D>,
): void {
  const got = received.get(name);
  assert.ok(got, `${name} reached the server`);
  const want = create(schema, sent);
  assert.ok(
    equals(schema, got as never, want as never),
    `${name}: server got ${JSON.stringify(got, replacer)}, client sent ${JSON.stringify(want, replacer)}`,
  );
}

function replacer(_key: string, value: unknown): unknown {
  return typeof value === "bigint"
    ? `${value}n`
    : value instanceof Uint8Array
      ? Array.from(value)
      : value;
}

const fullEcho: MessageInitShape<typeof EchoRequestSchema> = {
  s: "a b&c=d/é",
  i32: -5,
  i64: -9007199254740993n,
  u32: 4000000000,
  u64: 18446744073709551615n,
  s32: -1,
  f64: 77n,
  f: 0.5,
  d: 1e-7,
  b: true,
  by: new Uint8Array([0, 255, 62, 63]),
  genre: Genre.HISTORY,
  tags: ["x", "", "z"],
  ids: [1n, -2n],
  genres: [Genre.FICTION, Genre.HISTORY],
  nested: { a: "n", deep: { x: 3 } },
  ts: { seconds: 1700000000n, nanos: 5000 },
  dur: { seconds: 90n, nanos: 1 },
  mask: { paths: ["a", "b.c"] },
  wi: 0,
  ws: "",
  wb: false,
  choice: { case: "altMsg", value: { a: "in oneof" } },
  opt: "",
  userName: "u",
};

// One contract, both clients: node:http and fetch build the same requests and read the same replies.
const clients = { "node:http": createHttpClient, fetch: createFetchHttpClient } as const;

for (const [clientName, createClient] of Object.entries(clients)) {
  for (const codec of ["json", "proto"] as const) {
    describe(`generated HTTP client (${clientName}) -> generated HTTP server (${codec})`, () => {
      let server: HttpServer;
      let client: HttpClient;
      let books: BookstoreHTTPClient;

      before(async () => {
        server = createHttpServer({ addr: "127.0.0.1:0" });
        registerBookstoreHTTPServer(server, impl);
        await server.start();
        client = createClient({ endpoint: server.endpoint().href, codec });
        books = createBookstoreHTTPClient(client);
      });

      after(async () => {
        client.close();
        await server.stop();
      });

      it("path variable", async () => {
        const reply = await books.getShelf({ shelfId: 42n });
        assertReceived("getShelf", GetShelfRequestSchema, { shelfId: 42n });
        assert.equal(reply.id, 42n);
      });

      it("multi-segment variable", async () => {
        await books.getBook({ name: "shelves/1/books/2" });
        assertReceived("getBook", GetBookRequestSchema, { name: "shelves/1/books/2" });
      });

      it("a value that does not fit the variable's pattern fails before sending", async () => {
        await assert.rejects(books.getBook({ name: "not/a/book/name/at/all" }), (err: unknown) => {
          assert.ok(err instanceof KratosError);
          assert.equal(err.code, 400);
          assert.match(err.message, /does not match shelves\/\*\/books\/\*/);
          return true;
        });
      });

      it("body field + path + query", async () => {
        const sent = {
          shelfId: 3n,
          requestId: "req-1",
          book: {
            id: "b",
            title: "T",
            genre: Genre.FICTION,
            authors: ["a", "b"],
            createTime: { seconds: 5n },
          },
        };
        const reply = await books.createBook(sent);
        assertReceived("createBook", CreateBookRequestSchema, sent);
        assert.equal(reply.title, "T");
      });

      it("nested path field inside the body field, and a FieldMask in the query", async () => {
        const sent = { book: { id: "b-7", title: "new" }, updateMask: { paths: ["title"] } };
        await books.updateBook(sent);
        assertReceived("updateBook", UpdateBookRequestSchema, sent);
      });

      it("escapes path values and keeps query fields on DELETE", async () => {
        const sent = { id: "x y/z?#", force: true };
        await books.deleteBook(sent);
        assertReceived("deleteBook", DeleteBookRequestSchema, sent);
      });

      it("body: * on PUT", async () => {
        const reply = await books.putShelf({ id: 5n, theme: "sci-fi" });
        assertReceived("putShelf", ShelfSchema, { id: 5n, theme: "sci-fi" });
        assert.equal(reply.theme, "sci-fi");
      });

      it("custom verb after a variable", async () => {
        const reply = await books.cancelBook({ id: "c1", reason: "late" });
        assertReceived("cancelBook", CancelBookRequestSchema, { id: "c1", reason: "late" });
        assert.equal(reply.title, "late");
      });

      it("custom verb on a literal, repeated enums in the query", async () => {
        const sent = { query: "q&x=1", genres: [Genre.FICTION, Genre.HISTORY], pageSize: 10 };
        await books.searchBooks(sent);
        assertReceived("searchBooks", SearchBooksRequestSchema, sent);
      });

      it("response_body", async () => {
        const reply = await books.listBooks({ shelfId: 9n });
        assertReceived("listBooks", ListBooksRequestSchema, { shelfId: 9n });
        assert.deepEqual(
          reply.books.map((b) => b.id),
          ["9-a", "b"],
        );
        assert.equal(reply.nextPageToken, "");
      });

      it("raw bodies both ways (HttpBody)", async () => {
        const data = new Uint8Array([1, 2, 3, 250]);
        const reply = await books.upload({
          path: "dir/file.bin",
          file: { contentType: "application/octet-stream", data },
        });
        assertReceived("upload", UploadRequestSchema, {
          path: "dir/file.bin",
          file: { contentType: "application/octet-stream", data },
        });
        assert.equal(reply.contentType, "application/x-echo");
        assert.deepEqual(Array.from(reply.data), [1, 2, 3, 250]);
      });

      it("custom HTTP method", async () => {
        const reply = await books.report({ id: "r1", format: "pdf" });
        assertReceived("report", ReportRequestSchema, { id: "r1", format: "pdf" });
        assert.equal(reply.format, "pdf");
      });

      it("every field type through the query of a GET", async () => {
        const reply = await books.echo(fullEcho);
        assertReceived("echo", EchoRequestSchema, fullEcho);
        assert.ok(equals(EchoRequestSchema, reply, create(EchoRequestSchema, fullEcho)));
      });

      it("refuses a map field in a query with a clear error", async () => {
        await assert.rejects(
          books.echo({ labels: { a: "b" } }),
          /map field "labels" cannot travel in the query/,
        );
      });

      it("decodes the typed error: code, reason, message, metadata", async () => {
        await assert.rejects(books.getBook({ name: "shelves/0/books/0" }), (err: unknown) => {
          assert.ok(err instanceof KratosError);
          assert.deepEqual(err.toStatus(), {
            code: 404,
            reason: "BOOK_NOT_FOUND",
            message: "no book 0",
            metadata: { name: "shelves/0/books/0" },
          });
          return true;
        });
      });
    });
  }
}

describe("HTTP client", () => {
  it("serves the additional binding too", async () => {
    const server = createHttpServer({ addr: "127.0.0.1:0" });
    registerBookstoreHTTPServer(server, impl);
    await server.start();
    try {
      const res = await fetch(`${server.endpoint().href}v1/books/a/b/c`);
      assert.equal(res.status, 200);
      assert.equal(((await res.json()) as { name: string }).name, "a/b/c");
    } finally {
      await server.stop();
    }
  });

  it("balances direct:/// endpoints (wrr, equal weights) and runs client middleware", async () => {
    const servers = [
      createHttpServer({ addr: "127.0.0.1:0" }),
      createHttpServer({ addr: "127.0.0.1:0" }),
    ];
    const hits: string[] = [];
    servers.forEach((s, i) => {
      registerBookstoreHTTPServer(s, {
        ...impl,
        getShelf: (req, ctx) => {
          hits.push(`${i}:${serverTransport(ctx)?.requestHeader.get("x-md-from") ?? ""}`);
          return Promise.resolve({ id: req.shelfId });
        },
      });
    });
    await Promise.all(servers.map((s) => s.start()));
    const operations: string[] = [];
    const tagger: Middleware = (next) => (ctx, req) => {
      const t = clientTransport(ctx);
      operations.push(t?.operation ?? "");
      t?.requestHeader.set("x-md-from", "client");
      return next(ctx, req);
    };
    const hosts = servers.map((s) => s.endpoint().host).join(",");
    const client = createBookstoreHTTPClient(
      createHttpClient({
        endpoint: `direct:///${hosts}`,
        middleware: [tagger],
        selector: { balancer: "wrr" },
      }),
    );
    try {
      for (let i = 0; i < 4; i++) await client.getShelf({ shelfId: BigInt(i) });
      assert.deepEqual(hits, ["0:client", "1:client", "0:client", "1:client"]);
      assert.deepEqual(new Set(operations), new Set(["/bookstore.v1.Bookstore/GetShelf"]));
    } finally {
      await Promise.all(servers.map((s) => s.stop()));
    }
  });

  it("times out with 504 and reports refused connections as 503", async () => {
    const server = createHttpServer({ addr: "127.0.0.1:0" });
    registerBookstoreHTTPServer(server, {
      ...impl,
      getShelf: (_req, ctx) =>
        new Promise((_resolve, reject) => {
          ctx.signal.addEventListener("abort", () => {
            reject(ctx.signal.reason);
          });
        }),
    });
    await server.start();
    const endpoint = server.endpoint().href;
    const slow = createBookstoreHTTPClient(createHttpClient({ endpoint, timeout: 50 }));
    try {
      await assert.rejects(slow.getShelf({ shelfId: 1n }), (err: unknown) => {
        assert.ok(err instanceof KratosError);
        assert.equal(err.code, 504);
        return true;
      });
    } finally {
      await server.stop();
    }
    // A client without a deadline: with the 50 ms one, a busy machine could fire the deadline
    // (504) before the refused connection was seen (503).
    const plain = createBookstoreHTTPClient(createHttpClient({ endpoint }));
    await assert.rejects(plain.getShelf({ shelfId: 1n }), (err: unknown) => {
      assert.ok(err instanceof KratosError);
      assert.equal(err.code, 503);
      return true;
    });
  });

  it("rejects endpoints it cannot use, naming them", () => {
    assert.throws(
      () => createHttpClient({ endpoint: "discovery:///greeter" }),
      /endpoint "discovery:\/\/\/greeter" needs a resolver/,
    );
    assert.throws(
      () => createHttpClient({ endpoint: "ftp://x" }),
      /unsupported scheme in endpoint "ftp:\/\/x"/,
    );
    assert.throws(() => createHttpClient({ endpoint: "::" }), /bad endpoint/);
  });
});
