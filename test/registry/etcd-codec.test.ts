import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { retryDelay } from "../../src/registry/etcd/backoff.js";
import { decodeInstance, encodeInstance } from "../../src/registry/etcd/codec.js";

describe("etcd registry codec", () => {
  it("writes Go Kratos's keys in Go's field order, whatever the object's order", () => {
    const value = encodeInstance({
      endpoints: ["grpc://10.0.0.1:9000"],
      metadata: { a: "b" },
      version: "v1",
      name: "helloworld",
      id: "x",
    });
    assert.equal(
      value,
      '{"id":"x","name":"helloworld","version":"v1","metadata":{"a":"b"},"endpoints":["grpc://10.0.0.1:9000"]}',
    );
  });

  const cases: [string, string, string | undefined][] = [
    [
      "Go's nil map and slice",
      '{"id":"1","name":"s","version":"","metadata":null,"endpoints":null}',
      undefined,
    ],
    ["missing optional fields", '{"id":"1","name":"s"}', undefined],
    ["not JSON", "{oops", "JSON"],
    ["an array", "[]", "not a JSON object"],
    ["a numeric id", '{"id":1,"name":"s"}', "id and name"],
    ["a numeric metadata value", '{"id":"1","name":"s","metadata":{"w":5}}', "metadata"],
    ["endpoints not an array", '{"id":"1","name":"s","endpoints":"http://x"}', "endpoints"],
  ];
  for (const [what, json, error] of cases) {
    it(`reads ${what}`, () => {
      const got = decodeInstance(json);
      if (error === undefined) {
        assert.deepEqual(got, { id: "1", name: "s", version: "", metadata: {}, endpoints: [] });
      } else {
        assert.ok(got instanceof Error);
        assert.match(got.message, new RegExp(error));
      }
    });
  }
});

describe("etcd registry retry delay", () => {
  // attempt, random, expected ms (base 200, cap 5000): half fixed, half jitter.
  const table: [number, number, number][] = [
    [0, 0, 100],
    [0, 1, 200],
    [3, 0.5, 1200],
    [10, 1, 5000],
    [10_000, 0, 2500],
  ];
  for (const [attempt, random, expected] of table) {
    it(`attempt ${attempt} with random ${random} waits ${expected} ms`, () => {
      assert.equal(
        retryDelay(attempt, 200, 5000, () => random),
        expected,
      );
    });
  }
});
