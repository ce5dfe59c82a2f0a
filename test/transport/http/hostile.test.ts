// The HTTP port against clients that send what no well-behaved client does: every answer node
// lets us write carries the Kratos error body, a malformed path is a 400, and a body the route
// does not read is drained a little at most, then the connection closes.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createHttpServer } from "../../../src/transport/http/index.js";
import type { HttpServer } from "../../../src/transport/http/index.js";
import { registerCatalogHTTPServer } from "../../fixtures/http/gen/catalog/v1/catalog_http.js";
import type { CreateItemRequest } from "../../fixtures/http/gen/catalog/v1/catalog_pb.js";
import { connect, parseResponse, rawHttp, receive, writeUntilStopped } from "../../helpers/wire.js";

const limit = 1024;

describe("HTTP port hostile input", () => {
  let server: HttpServer;
  let port: number;
  let lastItem: CreateItemRequest["item"];

  before(async () => {
    server = createHttpServer({
      addr: "127.0.0.1:0",
      headersTimeout: 200,
      requestTimeout: 2_000,
      maxBodyBytes: limit,
    });
    registerCatalogHTTPServer(server, {
      listItems: () => Promise.resolve({ items: [] }),
      createItem: (req) => {
        lastItem = req.item;
        return Promise.resolve({ id: "1", name: req.item?.name ?? "" });
      },
      getLabels: (req) => Promise.resolve({ id: req.id, name: "x" }),
      ping: () => Promise.resolve({}),
    });
    await server.start();
    port = Number(server.endpoint().port);
  });

  after(async () => {
    await server.stop(AbortSignal.timeout(2_000));
  });

  function kratosBody(body: string): { code: number; reason: string } {
    return JSON.parse(body) as { code: number; reason: string };
  }

  for (const [name, request, status, reason] of [
    [
      "a malformed header line",
      "GET /v1/ping HTTP/1.1\r\nHost: x\r\nno colon\r\n\r\n",
      400,
      "CODEC",
    ],
    ["a malformed request line", "GET /v1/ping HTTP/9.9 junk\r\n\r\n", 400, "CODEC"],
    [
      "headers over node's limit",
      `GET /v1/ping HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`,
      431,
      "HEADERS_TOO_LARGE",
    ],
    [
      "headers that never end (headersTimeout)",
      "GET /v1/ping HTTP/1.1\r\nHost: x\r\n",
      408,
      "REQUEST_TIMEOUT",
    ],
  ] as const) {
    it(`answers ${name} with ${status} and the Kratos body`, async () => {
      const { data, closed } = await rawHttp(port, request);
      assert.equal(closed, true);
      const reply = parseResponse(data);
      assert.equal(reply.status, status, reply.head);
      assert.match(reply.head, /content-type: application\/json/i);
      assert.deepEqual(
        { code: kratosBody(reply.body).code, reason: kratosBody(reply.body).reason },
        { code: status, reason },
      );
    });
  }

  for (const path of ["/v1/items/%ZZ/labels", "/v1/items/%C3%28/labels", "/v1/%/x"]) {
    it(`answers the malformed path ${path} with 400`, async () => {
      const res = await fetch(`http://127.0.0.1:${port}${path}`);
      assert.equal(res.status, 400);
      assert.equal(kratosBody(await res.text()).reason, "CODEC");
    });
  }

  /** Sends a request head, then body bytes until the server stops reading or answers. */
  async function sendBody(head: string, total: number, chunked = false) {
    const socket = await connect(port);
    socket.write(head);
    const answered = receive(socket, 10_000);
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    const framed = chunked
      ? Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from("\r\n")])
      : chunk;
    const written = await writeUntilStopped(socket, framed, total, answered, chunk.length);
    return { ...(await answered), written };
  }

  it("answers a GET that carries a large body, without reading it, and closes", async () => {
    const total = 64 * 1024 * 1024;
    const r = await sendBody(
      `GET /v1/ping HTTP/1.1\r\nHost: x\r\nContent-Length: ${total}\r\n\r\n`,
      total,
    );
    assert.equal(r.closed, true);
    assert.equal(parseResponse(r.data).status, 200);
    assert.match(parseResponse(r.data).head, /connection: close/i);
    assert.ok(r.written < total, "the server read the whole body");
  });

  it("cuts a never-ending chunked body on a GET route after the reply", async () => {
    const r = await sendBody(
      "GET /v1/ping HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
      Number.MAX_SAFE_INTEGER,
      true,
    );
    assert.equal(r.closed, true);
    assert.equal(parseResponse(r.data).status, 200);
  });

  it("answers an oversized chunked body with 413, without reading the rest", async () => {
    const total = 64 * 1024 * 1024;
    const r = await sendBody(
      "POST /v1/items HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" +
        "Transfer-Encoding: chunked\r\n\r\n",
      total,
      true,
    );
    assert.equal(r.closed, true);
    assert.equal(parseResponse(r.data).status, 413);
    assert.ok(r.written < total, "the server read the whole body");
  });

  it("keeps no unknown fields of a protobuf body (one object each: 4 MiB would take ~300 MiB)", async () => {
    // Item.name (field 2) "hi", then 300 copies of field 15 as a varint 0: two bytes apiece.
    const body = Buffer.concat([Buffer.from([0x12, 2, 0x68, 0x69]), Buffer.alloc(600, "x\0")]);
    const res = await fetch(`http://127.0.0.1:${port}/v1/items`, {
      method: "POST",
      headers: { "content-type": "application/x-protobuf" },
      body,
    });
    assert.equal(res.status, 200, await res.text());
    assert.equal(lastItem?.name, "hi");
    assert.equal(lastItem.$unknown, undefined);
  });

  it("drains a small unread body and keeps the connection", async () => {
    const socket = await connect(port);
    const answers = receive(socket, 2_000);
    const body = "x".repeat(100);
    socket.write(
      `GET /v1/ping HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
    );
    socket.write("GET /v1/ping HTTP/1.1\r\nHost: x\r\n\r\n");
    const { data, closed } = await answers;
    socket.destroy();
    assert.equal(closed, false, "the connection stays open");
    assert.equal(data.toString("latin1").match(/HTTP\/1\.1 200/g)?.length, 2);
  });
});
