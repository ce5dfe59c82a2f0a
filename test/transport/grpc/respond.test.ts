// The head writer's fallback for Node versions whose `respond` takes header objects only. Its own
// file: the fallback is a process-wide switch, and node --test runs each file in a process.
import assert from "node:assert/strict";
import type { OutgoingHttpHeaders } from "node:http";
import { describe, it } from "node:test";
import { respond } from "../../../src/transport/grpc/exchange.js";

/** A stream like node's before raw header lists: it throws on a list before sending anything. */
function objectOnlyStream() {
  const sent: OutgoingHttpHeaders[] = [];
  const stream = {
    sent,
    lists: 0,
    respond(headers: OutgoingHttpHeaders | readonly string[]) {
      if (Array.isArray(headers)) {
        stream.lists++;
        throw Object.assign(new TypeError('The "headers" argument must be of type object'), {
          code: "ERR_INVALID_ARG_TYPE",
        });
      }
      sent.push(headers as OutgoingHttpHeaders);
    },
  };
  return stream;
}

describe("respond", () => {
  it("sends a flat header list with the status first, arrays as repeated fields", () => {
    const lists: unknown[] = [];
    respond(
      { respond: (headers) => lists.push(headers) },
      204,
      { "content-type": "application/grpc", "x-many": ["a", "b"], "x-none": undefined, n: 3 },
      {},
    );
    assert.deepEqual(lists, [
      [
        ":status",
        "204",
        "content-type",
        "application/grpc",
        "x-many",
        "a",
        "x-many",
        "b",
        "n",
        "3",
      ],
    ]);
  });

  it("rethrows other errors of respond", () => {
    const stream = {
      respond() {
        throw Object.assign(new Error("stream closed"), { code: "ERR_HTTP2_INVALID_STREAM" });
      },
    };
    assert.throws(() => {
      respond(stream, 200, {}, {});
    }, /stream closed/);
  });

  it("falls back to a header object, for good, where node rejects a list", () => {
    const stream = objectOnlyStream();
    respond(stream, 200, { "content-type": "application/grpc" }, {});
    respond(stream, 200, { "content-type": "application/grpc+json" }, {});
    assert.deepEqual(stream.sent, [
      { "content-type": "application/grpc", ":status": 200 },
      { "content-type": "application/grpc+json", ":status": 200 },
    ]);
    assert.equal(stream.lists, 1, "one list tried, then objects only");
  });
});
