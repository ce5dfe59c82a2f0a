import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { PooledIdGenerator } from "kratos-ts/telemetry";

describe("PooledIdGenerator", () => {
  it("makes W3C ids: lowercase hex of 32 and 16 characters, unique across pool refills", () => {
    const ids = new PooledIdGenerator();
    const seen = new Set<string>();
    // 4 KiB of random bytes make 8192 hex characters: 3000 of each cross several refills.
    for (let i = 0; i < 3000; i++) {
      const traceId = ids.generateTraceId();
      const spanId = ids.generateSpanId();
      assert.match(traceId, /^[0-9a-f]{32}$/);
      assert.match(spanId, /^[0-9a-f]{16}$/);
      assert.notEqual(traceId, "0".repeat(32));
      assert.notEqual(spanId, "0".repeat(16));
      seen.add(traceId).add(spanId);
    }
    assert.equal(seen.size, 6000);
  });

  it("draws different ids in different generators", () => {
    const a = new PooledIdGenerator();
    const b = new PooledIdGenerator();
    assert.notEqual(a.generateTraceId(), b.generateTraceId());
  });
});
