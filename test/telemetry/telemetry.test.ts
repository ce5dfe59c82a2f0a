// startTelemetry as the layout uses it: spans with real ids without any exporter, metrics served
// in the Prometheus format, and a clean shutdown.
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, it } from "node:test";
import { context, isSpanContextValid, metrics, propagation, trace } from "@opentelemetry/api";
import { startTelemetry } from "kratos-ts/telemetry";

describe("startTelemetry", () => {
  it("records spans without an exporter, propagates W3C context and serves Prometheus metrics", async () => {
    const telemetry = startTelemetry({
      serviceName: "svc",
      serviceVersion: "v1",
      serviceInstanceId: "i-1",
    });
    try {
      const span = trace.getTracer("t").startSpan("op");
      assert.ok(isSpanContextValid(span.spanContext()), "spans get real ids without an exporter");
      const carrier: Record<string, string> = {};
      context.with(trace.setSpan(context.active(), span), () => {
        propagation.inject(context.active(), carrier);
        assert.equal(trace.getSpan(context.active()), span, "the context manager keeps the span");
      });
      span.end();
      assert.match(carrier["traceparent"] ?? "", new RegExp(`^00-${span.spanContext().traceId}-`));

      metrics.getMeter("t").createCounter("things_total").add(3, { kind: "x" });
      const handler = telemetry.metricsHandler;
      assert.ok(handler !== undefined);
      const server = createServer((req, res) => {
        handler(req, res);
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      try {
        const { port } = server.address() as AddressInfo;
        const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        assert.match(text, /^things_total\{.*kind="x".*\} 3/m);
        assert.match(text, /service_name="svc"/);
      } finally {
        await new Promise((resolve) => server.close(resolve));
      }
    } finally {
      await telemetry.shutdown();
    }
  });
});
