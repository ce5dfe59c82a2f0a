// The services the fuzz target serves: the layout's Greeter, the Echo fixture (every RPC kind)
// and the Bookstore fixture (every google.api.http binding shape). They are written so that no
// input can make them fail with a server error: every failure they raise is a client error.
// A 5xx the fuzzer sees is therefore the kit's, never the test service's.
import { create } from "@bufbuild/protobuf";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { KratosError } from "kratos-ts/errors";
import type { ServiceImpl } from "kratos-ts/transport/grpc";
import { errorGreetingNotFound } from "../../api/helloworld/v1/error_reason_errors.js";
import type { Greeter } from "../../api/helloworld/v1/greeter_pb.js";
import type { GreeterHTTPServer } from "../../api/helloworld/v1/greeter_http.js";
import type { BookstoreHTTPServer } from "../fixtures/http/gen/bookstore/v1/bookstore_http.js";
import { Genre } from "../fixtures/http/gen/bookstore/v1/bookstore_pb.js";
import type { EchoService } from "../fixtures/http/gen/echo/v1/echo_pb.js";
import { HttpBodySchema } from "../../src/gen/google/api/httpbody_pb.js";
import type { HttpBody } from "../../src/gen/google/api/httpbody_pb.js";

/** Replies streamed by Count at most, so a huge `up_to` cannot keep a stream busy forever. */
const maxCount = 50;

/** helloworld.v1.Greeter without a database: side-effect free, so RSS measures the kit. */
export const greeter: GreeterHTTPServer & ServiceImpl<typeof Greeter> = {
  async sayHello(req) {
    return { message: `Hello ${req.name}` };
  },
  async createGreeting(req) {
    // Echoed, not stored: the fuzzer's writes must not grow anything but the kit's own state.
    return {
      id: 1n,
      name: req.name,
      message: `Hello ${req.name}`,
      createTime: timestampFromDate(new Date(0)),
    };
  },
  async getGreeting(req) {
    if (req.id !== 1n) throw errorGreetingNotFound(`greeting ${req.id} not found`);
    return {
      id: 1n,
      name: "fuzz",
      message: "Hello fuzz",
      createTime: timestampFromDate(new Date(0)),
    };
  },
};

/**
 * echo.v1.EchoService. Slow and Missing are left out on purpose: they answer UNIMPLEMENTED
 * (Slow would turn the server's own timeout into a 504 for a valid request).
 */
export const echo: ServiceImpl<typeof EchoService> = {
  async say(req) {
    return { sentence: req.sentence };
  },
  async fail(req) {
    // Only client-error codes: the fuzzer may send any int32 here.
    const code = req.code >= 400 && req.code < 500 ? req.code : 400;
    throw new KratosError(code, req.reason, req.message, { metadata: req.metadata });
  },
  async *count(req, ctx) {
    const n = Math.min(Math.max(req.upTo, 0), maxCount);
    for (let i = 1; i <= n && !ctx.signal.aborted; i++) {
      if (req.failAfter > 0 && i > req.failAfter) {
        throw new KratosError(409, "COUNT_STOPPED", `stopped after ${req.failAfter}`);
      }
      yield { number: i };
    }
  },
  async sum(reqs) {
    let total = 0n;
    let count = 0;
    for await (const r of reqs) {
      // Wrap like int64 arithmetic would: the reply must stay encodable for any input.
      total = BigInt.asIntN(64, total + r.value);
      count = (count + 1) | 0;
    }
    return { total, count };
  },
  async *chat(reqs) {
    for await (const r of reqs) yield { text: `echo: ${r.text.slice(0, 64)}` };
  },
};

/** bookstore.v1.Bookstore over HTTP: echoes what was bound, so every binding runs both ways. */
export const bookstore: BookstoreHTTPServer = {
  async getShelf(req) {
    return { id: req.shelfId, theme: "fuzz" };
  },
  async getBook(req) {
    return { name: req.name };
  },
  async createBook(req) {
    return req.book ?? {};
  },
  async updateBook(req) {
    return req.book ?? {};
  },
  async deleteBook() {
    return {};
  },
  async putShelf(req) {
    return req;
  },
  async cancelBook(req) {
    return { id: req.id, title: req.reason };
  },
  async searchBooks(req) {
    return { books: [{ title: req.query, genre: req.genres[0] ?? Genre.UNSPECIFIED }] };
  },
  async listBooks(req) {
    return { books: [{ id: String(req.shelfId) }] };
  },
  async upload(req): Promise<HttpBody | MessageInitShape<typeof HttpBodySchema>> {
    return create(HttpBodySchema, {
      contentType: "text/plain",
      data: new TextEncoder().encode(`${req.path}: ${req.file?.data.byteLength ?? 0} bytes`),
    });
  },
  async report(req) {
    return { id: req.id, format: req.format };
  },
  async echo(req) {
    return req;
  },
};
