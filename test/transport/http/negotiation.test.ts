// Content negotiation against Go Kratos's rules (transport/http/codec.go and internal/httputil,
// v2.9.2 and v3.0.0): a codec is named by the subtype, `application/<name>` is the reply type,
// the reply codec comes from Accept only, JSON is the fallback, and never a 406. Each row says
// what Go Kratos v2 and v3 answer; where we differ on purpose, the row says why.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { createHttpClient, createHttpServer } from "kratos-ts/transport/http";
import type { HttpServer } from "kratos-ts/transport/http";
import { fromHttpResponse } from "kratos-ts/errors";
import {
  createGreeterHTTPClient,
  registerGreeterHTTPServer,
} from "../../../api/helloworld/v1/greeter_http.js";
import { GreetingSchema } from "../../../api/helloworld/v1/greeter_pb.js";
import type { CreateGreetingRequest } from "../../../api/helloworld/v1/greeter_pb.js";
import { KratosError } from "kratos-ts/errors";
import { requestCodec, responseCodec } from "../../../src/encoding/negotiate.js";

type Reply = "application/json" | "application/protojson" | "application/proto";

interface Row {
  accept: string | undefined;
  ours: Reply;
  v2: Reply;
  v3: Reply;
  /** Why we answer otherwise than Go Kratos, where we do. */
  why?: string;
}

const lists =
  "q-values and lists are weighed as RFC 9110 says; Go Kratos reads only up to the first `;`";
const aliases =
  "protobuf's other media types name the proto codec; the reply says application/proto";

const rows: Row[] = [
  { accept: undefined, ours: "application/json", v2: "application/json", v3: "application/json" },
  { accept: "", ours: "application/json", v2: "application/json", v3: "application/json" },
  {
    accept: "application/json",
    ours: "application/json",
    v2: "application/json",
    v3: "application/json",
  },
  {
    accept: "application/proto",
    ours: "application/proto",
    v2: "application/proto",
    v3: "application/proto",
  },
  {
    accept: "application/protojson",
    ours: "application/protojson",
    v2: "application/json",
    v3: "application/protojson",
    why: "v3's codec; v2 falls back to JSON, which a v3 client then reads with the wrong decoder",
  },
  {
    accept: "application/x-protobuf",
    ours: "application/proto",
    v2: "application/json",
    v3: "application/json",
    why: aliases,
  },
  {
    accept: "application/protobuf",
    ours: "application/proto",
    v2: "application/json",
    v3: "application/json",
    why: aliases,
  },
  { accept: "*/*", ours: "application/json", v2: "application/json", v3: "application/json" },
  {
    accept: "application/*",
    ours: "application/json",
    v2: "application/json",
    v3: "application/json",
  },
  { accept: "*/*;q=0.8", ours: "application/json", v2: "application/json", v3: "application/json" },
  { accept: "text/html", ours: "application/json", v2: "application/json", v3: "application/json" },
  {
    accept: "image/png, text/plain",
    ours: "application/json",
    v2: "application/json",
    v3: "application/json",
  },
  {
    accept: "application/proto, application/json",
    ours: "application/json",
    v2: "application/json",
    v3: "application/json",
  },
  {
    accept: "application/json, application/proto",
    ours: "application/json",
    v2: "application/json",
    v3: "application/json",
  },
  {
    accept: "application/json;q=0.1, application/proto",
    ours: "application/proto",
    v2: "application/json",
    v3: "application/json",
    why: lists,
  },
  {
    accept: "application/proto;q=0.1, application/json",
    ours: "application/json",
    v2: "application/proto",
    v3: "application/proto",
    why: lists,
  },
  {
    accept: "application/x-protobuf, application/proto;q=0.9",
    ours: "application/proto",
    v2: "application/json",
    v3: "application/json",
    why: lists,
  },
  {
    accept: "application/protojson;q=0.5, application/json",
    ours: "application/json",
    v2: "application/json",
    v3: "application/protojson",
    why: lists,
  },
  {
    accept: "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    ours: "application/json",
    v2: "application/json",
    v3: "application/json",
  },
  {
    accept: "application/proto;q=0",
    ours: "application/json",
    v2: "application/proto",
    v3: "application/proto",
    why: "q=0 means not acceptable",
  },
  {
    accept: "application/PROTO",
    ours: "application/proto",
    v2: "application/json",
    v3: "application/json",
    why: "media types are case-insensitive",
  },
  {
    accept: "application/json; charset=utf-8",
    ours: "application/json",
    v2: "application/json",
    v3: "application/json",
  },
  {
    accept: "application/x-www-form-urlencoded",
    ours: "application/json",
    v2: "application/json",
    v3: "application/json",
    why: "forms are a request encoding here (Kratos answers a form)",
  },
];

describe("reply negotiation, row by row against Go Kratos v2 and v3", () => {
  for (const row of rows) {
    it(`Accept ${JSON.stringify(row.accept)} -> ${row.ours}`, () => {
      assert.equal(responseCodec(row.accept).contentType, row.ours);
      if (row.ours !== row.v2 || row.ours !== row.v3) {
        assert.ok(row.why !== undefined, "a difference from Go Kratos says why");
      }
    });
  }
});

describe("request decoding by Content-Type", () => {
  it("takes Go Kratos's codecs and protobuf's other names; anything else is 400 CODEC", () => {
    assert.equal(requestCodec("application/json"), "json");
    assert.equal(requestCodec("application/json; charset=utf-8"), "json");
    assert.equal(requestCodec("application/protojson"), "protojson");
    assert.equal(requestCodec("application/proto"), "proto");
    assert.equal(requestCodec("application/x-protobuf"), "proto");
    assert.equal(requestCodec("application/x-www-form-urlencoded"), "form");
    // Go Kratos answers 400 to a body without Content-Type (kratos#3653); JSON is what it means.
    assert.equal(requestCodec(undefined), "json");
    assert.throws(
      () => requestCodec("text/csv"),
      (err: KratosError) => err.code === 400 && err.reason === "CODEC",
    );
  });
});

describe("protojson on the wire", () => {
  let server: HttpServer;
  before(async () => {
    server = createHttpServer({ addr: "127.0.0.1:0" });
    registerGreeterHTTPServer(server, {
      sayHello: (req) => Promise.resolve({ message: `Hello ${req.name}` }),
      createGreeting: (req: CreateGreetingRequest) =>
        Promise.resolve({ id: 9007199254740993n, name: req.name, message: `Hello ${req.name}` }),
      getGreeting: () => Promise.reject(new KratosError(404, "GREETING_NOT_FOUND", "none")),
    });
    await server.start();
  });
  after(async () => {
    await server.stop();
  });

  it("answers a Go Kratos v3 client: protojson body and Accept, protojson reply", async () => {
    const res = await fetch(new URL("/v1/greetings", server.endpoint()), {
      method: "POST",
      headers: { "content-type": "application/protojson", accept: "application/protojson" },
      body: '{"name":"v3"}',
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "application/protojson");
    const body = (await res.json()) as Record<string, unknown>;
    // 64-bit integers as strings: what a protojson decoder expects.
    assert.equal(body["id"], "9007199254740993");
    const missing = await fetch(new URL("/v1/greetings/1", server.endpoint()), {
      headers: { accept: "application/protojson" },
    });
    assert.equal(missing.status, 404);
    assert.equal(missing.headers.get("content-type"), "application/protojson");
    const err = fromHttpResponse(
      404,
      new Uint8Array(await missing.arrayBuffer()),
      "application/protojson",
    );
    assert.equal(err?.reason, "GREETING_NOT_FOUND");
  });

  it("answers binary to Accept: application/x-protobuf, typed so a Go Kratos client decodes it", async () => {
    const res = await fetch(new URL("/v1/greetings", server.endpoint()), {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/x-protobuf" },
      body: '{"name":"bin"}',
    });
    assert.equal(res.headers.get("content-type"), "application/proto");
    const greeting = fromBinary(GreetingSchema, new Uint8Array(await res.arrayBuffer()));
    assert.equal(greeting.name, "bin");
  });

  it("lets the generated client speak protojson and proto", async () => {
    for (const codec of ["protojson", "proto"] as const) {
      const client = createGreeterHTTPClient(
        createHttpClient({ endpoint: server.endpoint().href, codec }),
      );
      assert.equal((await client.createGreeting({ name: codec })).id, 9007199254740993n);
      await assert.rejects(
        client.getGreeting({ id: 1n }),
        (err: KratosError) => err.reason === "GREETING_NOT_FOUND",
      );
    }
    // A proto body without Accept: the reply codec comes from Accept only, so JSON.
    const res = await fetch(new URL("/v1/greetings", server.endpoint()), {
      method: "POST",
      headers: { "content-type": "application/proto" },
      body: toBinary(GreetingSchema, create(GreetingSchema, { name: "x" })),
    });
    assert.equal(res.headers.get("content-type"), "application/json");
  });
});
