// The fetch HTTP client against a real kratos-ts HTTP server on port 0, through Node's global
// fetch: what the browser test cannot look at closely (the bytes sent, deadlines, aborts, limits).
// The binding contract (paths, queries, bodies, raw bodies) runs for both clients in
// round-trip.test.ts.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { KratosError } from "kratos-ts/errors";
import type { Middleware } from "kratos-ts/middleware";
import { clientTransport, serverTransport } from "kratos-ts/transport";
import { createHttpServer } from "kratos-ts/transport/http";
import type { HttpServer } from "kratos-ts/transport/http";
import { createFetchHttpClient } from "kratos-ts/transport/http/fetch";
import type { FetchHttpClientOptions } from "kratos-ts/transport/http/fetch";
import {
  errorGreetingNotFound,
  isGreetingNotFound,
} from "../../../api/helloworld/v1/error_reason_errors.js";
import {
  createGreeterHTTPClient,
  registerGreeterHTTPServer,
} from "../../../api/helloworld/v1/greeter_http.js";
import type { GreeterHTTPClient } from "../../../api/helloworld/v1/greeter_http.js";

/** One request as the injected fetch saw it. */
interface Seen {
  url: string;
  method: string;
  headers: Headers;
  credentials: string | undefined;
}

/** How many calls the server has taken and holds until the client gives up. */
let held = 0;

describe("fetch HTTP client", () => {
  let server: HttpServer;
  const seen: Seen[] = [];
  // Node's fetch, watched: what went out is asserted on, nothing is changed.
  const watched: typeof fetch = (input, init) => {
    seen.push({
      url: urlOf(input),
      method: init?.method ?? "GET",
      headers: new Headers(init?.headers),
      credentials: init?.credentials,
    });
    return fetch(input, init);
  };
  const greeter = (options: Partial<FetchHttpClientOptions> = {}): GreeterHTTPClient =>
    createGreeterHTTPClient(
      createFetchHttpClient({ endpoint: server.endpoint().href, fetch: watched, ...options }),
    );
  const last = (): Seen => {
    const s = seen.at(-1);
    assert.ok(s !== undefined, "no request seen");
    return s;
  };

  before(async () => {
    server = createHttpServer({ addr: "127.0.0.1:0" });
    registerGreeterHTTPServer(server, {
      sayHello: (req, ctx) => {
        const from = serverTransport(ctx)?.requestHeader.get("x-md-from") ?? "";
        return Promise.resolve({ message: `Hello ${req.name}${from === "" ? "" : ` (${from})`}` });
      },
      createGreeting: (req) => Promise.resolve({ id: 1n, name: req.name, message: "hi" }),
      getGreeting: (req, ctx) => {
        if (req.id === 7n) {
          return Promise.resolve({ id: 7n, name: "n", message: "Hello n", createTime: {} });
        }
        if (req.id !== 0n) {
          return Promise.reject(
            errorGreetingNotFound(`no greeting ${req.id}`, { id: String(req.id) }),
          );
        }
        // id 0: never answers; the call ends when the client's deadline or abort closes it.
        held++;
        return new Promise((_resolve, reject) => {
          ctx.signal.addEventListener("abort", () => {
            reject(ctx.signal.reason);
          });
        });
      },
    });
    await server.start();
  });

  after(async () => {
    await server.stop();
  });

  it("calls a route and sends JSON by default", async () => {
    const reply = await greeter().sayHello({ name: "fetch" });
    assert.equal(reply.message, "Hello fetch");
    assert.equal(last().url, `${server.endpoint().origin}/helloworld/fetch`);
    assert.equal(last().headers.get("accept"), "application/json");
    const created = await greeter().createGreeting({ name: "posted" });
    assert.equal(created.name, "posted");
    assert.equal(last().method, "POST");
    assert.equal(last().headers.get("content-type"), "application/json");
  });

  it("decodes the Kratos error: code, reason, message, metadata", async () => {
    await assert.rejects(greeter().getGreeting({ id: 404n }), (err: unknown) => {
      assert.ok(err instanceof KratosError);
      assert.deepEqual(err.toStatus(), {
        code: 404,
        reason: "GREETING_NOT_FOUND",
        message: "no greeting 404",
        metadata: { id: "404" },
      });
      assert.ok(isGreetingNotFound(err));
      return true;
    });
  });

  for (const codec of ["protojson", "proto"] as const) {
    it(`speaks ${codec} both ways, errors included`, async () => {
      const client = greeter({ codec });
      const reply = await client.getGreeting({ id: 7n });
      assert.equal(reply.id, 7n);
      assert.equal(last().headers.get("accept"), `application/${codec}`);
      const created = await client.createGreeting({ name: codec });
      assert.equal(created.name, codec);
      assert.equal(last().headers.get("content-type"), `application/${codec}`);
      await assert.rejects(client.getGreeting({ id: 5n }), (err: unknown) => {
        assert.ok(err instanceof KratosError);
        assert.equal(err.code, 404);
        assert.equal(err.reason, "GREETING_NOT_FOUND");
        assert.deepEqual(err.metadata, { id: "5" });
        return true;
      });
    });
  }

  it("runs client middleware, which sees the transport and sets headers", async () => {
    const operations: string[] = [];
    const tagger: Middleware = (next) => async (ctx, req) => {
      const t = clientTransport(ctx);
      operations.push(`${t?.operation ?? ""} ${t?.endpoint ?? ""}`);
      t?.requestHeader.set("x-md-from", "middleware");
      const reply = await next(ctx, req);
      operations.push(`reply ${t?.replyHeader.get("content-type") ?? ""}`);
      return reply;
    };
    const reply = await greeter({ middleware: [tagger] }).sayHello({ name: "m" });
    assert.equal(reply.message, "Hello m (middleware)");
    assert.deepEqual(operations, [
      `/helloworld.v1.Greeter/SayHello ${server.endpoint().origin}`,
      "reply application/json",
    ]);
  });

  it("sends the client's and the call's headers, and credentials when asked", async () => {
    const client = greeter({ headers: { "x-md-from": "client" }, credentials: "include" });
    assert.equal((await client.sayHello({ name: "h" })).message, "Hello h (client)");
    assert.equal(last().credentials, "include");
    const call = await client.sayHello({ name: "h" }, { headers: { "x-md-from": "call" } });
    assert.equal(call.message, "Hello h (call)");
    await greeter().sayHello({ name: "h" });
    assert.equal(last().credentials, undefined);
  });

  it("appends routes to an endpoint's path prefix", async () => {
    const prefixed: typeof fetch = (input, init) => {
      seen.push({ url: urlOf(input), method: "", headers: new Headers(), credentials: "" });
      return fetch(urlOf(input).replace("/api/", "/"), init);
    };
    const endpoint = `${server.endpoint().origin}/api/`;
    const client = createGreeterHTTPClient(createFetchHttpClient({ endpoint, fetch: prefixed }));
    assert.equal((await client.sayHello({ name: "p" })).message, "Hello p");
    assert.equal(last().url, `${server.endpoint().origin}/api/helloworld/p`);
  });

  it("gives up at the deadline with 504 and on abort with 499", async () => {
    const before = held;
    await assert.rejects(greeter({ timeout: 50 }).getGreeting({ id: 0n }), (err: unknown) => {
      assert.ok(err instanceof KratosError);
      assert.equal(err.code, 504);
      return true;
    });
    const controller = new AbortController();
    const call = greeter().getGreeting({ id: 0n }, { signal: controller.signal });
    // Abort once the server holds the call, so the abort cuts a request in flight.
    await waitFor(() => held === before + 2);
    controller.abort();
    await assert.rejects(call, (err: unknown) => {
      assert.ok(err instanceof KratosError);
      assert.equal(err.code, 499);
      return true;
    });
    assert.equal(held, before + 2);
  });

  it("reports an unreachable server as 503 and a body past the limit as 502", async () => {
    const gone = createHttpServer({ addr: "127.0.0.1:0" });
    await gone.start();
    const endpoint = gone.endpoint().href;
    await gone.stop();
    const client = createGreeterHTTPClient(createFetchHttpClient({ endpoint }));
    await assert.rejects(client.sayHello({ name: "x" }), (err: unknown) => {
      assert.ok(err instanceof KratosError);
      assert.equal(err.code, 503);
      assert.match(err.message, /^GET http:\/\/127\.0\.0\.1:\d+\/helloworld\/x: /);
      return true;
    });
    await assert.rejects(
      greeter({ maxBodyBytes: 8 }).sayHello({ name: "a long name" }),
      (err: unknown) => {
        assert.ok(err instanceof KratosError);
        assert.equal(err.code, 502);
        assert.equal(err.reason, "PAYLOAD_TOO_LARGE");
        return true;
      },
    );
  });

  it("rejects endpoints it cannot use, naming them", () => {
    assert.throws(
      () => createFetchHttpClient({ endpoint: "direct:///a:1,b:2" }),
      /unsupported scheme in endpoint "direct:\/\/\/a:1,b:2"/,
    );
    assert.throws(() => createFetchHttpClient({ endpoint: "http://" }), /bad endpoint "http:\/\/"/);
    assert.throws(
      () => createFetchHttpClient({ endpoint: "http://h:1/?q=1" }),
      /may not have a query or fragment/,
    );
  });
});

/** Resolves once `done()` holds, checking on each turn of the event loop (no fixed sleep). */
async function waitFor(done: () => boolean): Promise<void> {
  while (!done()) await new Promise((resolve) => setImmediate(resolve));
}

/** The URL fetch was called with (the client passes a string). */
function urlOf(input: string | URL | Request): string {
  return typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
}
