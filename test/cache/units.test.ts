// The cache's pure parts, without Redis: single flight (one run per key while it is in flight,
// a new run after it settles, failures shared and not kept), TTL jitter on an injected random
// source, and the codecs.
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { jsonCodec, protoCodec } from "kratos-ts/cache";
import { GreetingSchema } from "../../api/helloworld/v1/greeter_pb.js";
import { jitteredTtl } from "../../src/cache/jitter.js";
import { singleFlight } from "../../src/cache/single-flight.js";
import { externalImports } from "../helpers/import-graph.js";

/** A promise and its resolve / reject, to settle work when the test says. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (err: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe("singleFlight", () => {
  it("runs the work once for every call made while it is in flight", async () => {
    const flights = singleFlight();
    const gate = deferred<string>();
    let runs = 0;
    const work = () => {
      runs++;
      return gate.promise;
    };
    const calls = Array.from({ length: 100 }, () => flights.do("k", work));
    assert.equal(runs, 1);
    assert.equal(flights.has("k"), true);
    gate.resolve("v");
    assert.deepEqual(new Set(await Promise.all(calls)), new Set(["v"]));
    assert.equal(flights.size(), 0);
    // Settled: the next call runs the work again.
    await flights.do("k", () => Promise.resolve("again"));
    assert.equal(runs, 1);
    assert.equal(await flights.do("k", work), "v");
    assert.equal(runs, 2);
  });

  it("keeps keys apart", async () => {
    const flights = singleFlight();
    const a = deferred<string>();
    const b = deferred<string>();
    const pa = flights.do("a", () => a.promise);
    const pb = flights.do("b", () => b.promise);
    assert.equal(flights.size(), 2);
    b.resolve("B");
    a.resolve("A");
    assert.deepEqual(await Promise.all([pa, pb]), ["A", "B"]);
  });

  it("shares a failure with every waiter and does not keep it", async () => {
    const flights = singleFlight();
    const gate = deferred<string>();
    const calls = [1, 2, 3].map(() => flights.do("k", () => gate.promise));
    gate.reject(new Error("db down"));
    for (const call of calls) await assert.rejects(call, /db down/);
    assert.equal(flights.has("k"), false);
    assert.equal(await flights.do("k", () => Promise.resolve("ok")), "ok");
  });

  it("turns work that throws synchronously into a rejection", async () => {
    const flights = singleFlight();
    await assert.rejects(
      flights.do("k", () => {
        throw new Error("sync");
      }),
      /sync/,
    );
    assert.equal(flights.size(), 0);
  });
});

describe("jitteredTtl", () => {
  it("spreads the TTL over ±deviation, at the ends and the middle of random's range", () => {
    const table: [random: number, ttl: number][] = [
      [0, 950],
      [0.5, 1000],
      [0.999999, 1050],
    ];
    for (const [random, ttl] of table) {
      assert.equal(
        jitteredTtl(1000, 0.05, () => random),
        ttl,
        `random ${random}`,
      );
    }
  });

  it("stays within the bounds for any random value, and at least 1 ms", () => {
    let seed = 42;
    // A small LCG: repeatable, spread over [0, 1).
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let i = 0; i < 10_000; i++) {
      const ttl = jitteredTtl(60_000, 0.1, random);
      assert.ok(ttl >= 54_000 && ttl <= 66_000, String(ttl));
    }
    assert.equal(
      jitteredTtl(1, 0.5, () => 0),
      1,
    );
    assert.equal(
      jitteredTtl(1234.4, 0, () => 0.9),
      1234,
    );
  });
});

describe("codecs", () => {
  it("protoCodec round-trips a message in its binary form", () => {
    const codec = protoCodec(GreetingSchema);
    const greeting = create(GreetingSchema, {
      id: 2n ** 62n,
      name: "kratos",
      message: "Hello kratos",
      createTime: timestampFromDate(new Date(1_700_000_000_000)),
    });
    const bytes = codec.encode(greeting);
    const back = codec.decode(bytes);
    assert.equal(back.id, 2n ** 62n);
    assert.equal(back.message, "Hello kratos");
    assert.equal(codec.name, "helloworld.v1.Greeting");
    assert.throws(() => codec.decode(new Uint8Array([0xff, 0xff, 0xff])));
  });

  it("jsonCodec round-trips JSON values and rejects bytes that are not UTF-8 JSON", () => {
    const codec = jsonCodec<{ n: number; tags: string[] }>();
    assert.deepEqual(codec.decode(codec.encode({ n: 1, tags: ["a"] })), { n: 1, tags: ["a"] });
    assert.throws(() => codec.decode(new Uint8Array([0xc3])));
    assert.throws(() => codec.decode(new TextEncoder().encode("{")));
  });
});

describe("kratos-ts/cache's import graph", () => {
  it("does not load ioredis: the app passes the Redis client", () => {
    const entry = fileURLToPath(new URL("../../src/cache/index.js", import.meta.url));
    const loaded = externalImports(entry).filter((e) => e.specifier === "ioredis");
    assert.deepEqual(
      loaded.map((e) => e.path.join(" -> ")),
      [],
    );
  });
});
