import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ExportResultCode } from "@opentelemetry/core";
import type { ExportResult } from "@opentelemetry/core";
import type { ReadableSpan, SpanExporter } from "@opentelemetry/sdk-trace";
import { LazySpanExporter } from "../../src/telemetry/lazy-span-exporter.js";

const exportWith = (exporter: SpanExporter) =>
  new Promise<ExportResult>((resolve) => {
    exporter.export([], resolve);
  });

describe("LazySpanExporter", () => {
  it("hands spans to the exporter once it has loaded, and shuts it down", async () => {
    const calls: string[] = [];
    const real: SpanExporter = {
      export(spans: ReadableSpan[], done) {
        calls.push(`export ${spans.length}`);
        done({ code: ExportResultCode.SUCCESS });
      },
      shutdown() {
        calls.push("shutdown");
        return Promise.resolve();
      },
    };
    const lazy = new LazySpanExporter(() => Promise.resolve(real));
    assert.equal((await exportWith(lazy)).code, ExportResultCode.SUCCESS);
    await lazy.forceFlush();
    await lazy.shutdown();
    assert.deepEqual(calls, ["export 0", "shutdown"]);
  });

  it("fails the export when the exporter cannot load, and still shuts down", async () => {
    const lazy = new LazySpanExporter(() => Promise.reject(new Error("no such module")));
    const result = await exportWith(lazy);
    assert.equal(result.code, ExportResultCode.FAILED);
    assert.match(result.error?.message ?? "", /no such module/);
    await lazy.shutdown();
  });
});
