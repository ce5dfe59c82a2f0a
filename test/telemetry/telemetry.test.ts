// startTelemetry as the layout uses it: spans with real ids without any exporter, metrics served
// in the Prometheus format, spans sent to an OTLP/HTTP collector when one is configured, and a
// clean shutdown that lets a later start register again.
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, it } from "node:test";
import {
  context,
  isSpanContextValid,
  metrics,
  propagation,
  trace,
  TraceFlags,
} from "@opentelemetry/api";
import type { ReadableSpan } from "@opentelemetry/sdk-trace";
import { createContext } from "kratos-ts/context";
import { metrics as metricsMiddleware, tracing } from "kratos-ts/middleware";
import { startTelemetry } from "kratos-ts/telemetry";
import type { Telemetry } from "kratos-ts/telemetry";
import { setServerTransport } from "kratos-ts/transport";
import { scrape, transportFor } from "../helpers/telemetry.js";

/** The Prometheus text a telemetry's metrics handler serves. */
function scrapeTelemetry(telemetry: Telemetry): Promise<string> {
  const handler = telemetry.metricsHandler;
  assert.ok(handler !== undefined);
  return scrape(handler);
}

describe("startTelemetry", () => {
  it("gives spans real ids without an exporter, propagates W3C context and serves Prometheus metrics", async () => {
    const telemetry = startTelemetry({
      serviceName: "svc",
      serviceVersion: "v1",
      serviceInstanceId: "i-1",
    });
    try {
      const span = trace.getTracer("t").startSpan("op");
      assert.ok(isSpanContextValid(span.spanContext()), "spans get real ids without an exporter");
      assert.equal(span.isRecording(), false, "nothing exports them: no span data is made");
      assert.equal(span.spanContext().traceFlags, TraceFlags.SAMPLED, "the default sampler's flag");
      const carrier: Record<string, string> = {};
      context.with(trace.setSpan(context.active(), span), () => {
        propagation.inject(context.active(), carrier);
        assert.equal(trace.getSpan(context.active()), span, "the context manager keeps the span");
      });
      span.end();
      assert.match(carrier["traceparent"] ?? "", new RegExp(`^00-${span.spanContext().traceId}-`));

      metrics.getMeter("t").createCounter("things_total").add(3, { kind: "x" });
      const text = await scrapeTelemetry(telemetry);
      assert.match(text, /^things_total\{.*kind="x".*\} 3/m);
      assert.match(text, /service_name="svc"/);
    } finally {
      await telemetry.shutdown();
    }
  });

  it("sends spans to the OTLP endpoint when one is set, flushed by shutdown", async () => {
    await withCollector(async (endpoint, bodies) => {
      const telemetry = startTelemetry({
        serviceName: "exporting",
        otlpEndpoint: endpoint,
        prometheus: false,
      });
      assert.equal(telemetry.metricsHandler, undefined);
      const span = trace.getTracer("t").startSpan("exported-op");
      const traceId = span.spanContext().traceId;
      span.end();
      await telemetry.shutdown();
      const sent = bodies.find((b) => b.path === "/v1/traces");
      assert.ok(sent, `the collector got the spans (got ${bodies.length} requests)`);
      assert.ok(sent.body.includes("exported-op"), "the span's name travels");
      assert.ok(sent.body.includes("exporting"), "the resource's service.name travels");
      assert.ok(
        sent.body.includes(traceId) || sent.type.includes("protobuf"),
        "the span's trace id travels",
      );
    });
  });

  it("starts again after a shutdown (the globals are released)", async () => {
    const first = startTelemetry({ serviceName: "first", prometheus: false });
    await first.shutdown();
    const second = startTelemetry({ serviceName: "second", prometheus: false });
    try {
      const span = trace.getTracer("t2").startSpan("again");
      assert.ok(isSpanContextValid(span.spanContext()), "the second start makes spans");
      span.end();
    } finally {
      await second.shutdown();
    }
  });

  it("feeds middleware built before a start, and again after a restart, to the current SDK", async () => {
    // Built once, before any SDK: the layout builds its servers before main starts telemetry.
    const services: string[] = [];
    const handler = tracing.server()(
      metricsMiddleware.server()(() => {
        const span = trace.getSpan(context.active()) as ReadableSpan | undefined;
        const service = span?.resource.attributes["service.name"];
        services.push(typeof service === "string" ? service : "no span");
        return Promise.resolve("ok");
      }),
    );
    const call = async () => {
      const ctx = createContext();
      setServerTransport(ctx, transportFor("grpc", "/helloworld.v1.Greeter/SayHello"));
      await handler(ctx, undefined);
    };
    await call();
    const counted =
      /^server_requests_code_total\{.*operation="\/helloworld.v1.Greeter\/SayHello".*\} 1$/m;
    // With an exporter, so the spans are recorded and carry their SDK's resource.
    await withCollector(async (endpoint) => {
      for (const name of ["first", "second"]) {
        const telemetry = startTelemetry({ serviceName: name, otlpEndpoint: endpoint });
        try {
          await call();
          assert.match(await scrapeTelemetry(telemetry), counted, `${name}: the call is counted`);
        } finally {
          await telemetry.shutdown();
        }
      }
    });
    assert.deepEqual(services, ["no span", "first", "second"], "each call's span is the SDK's");
  });
});

/** Runs `fn` with a local OTLP/HTTP collector: its traces URL, and the bodies it received. */
async function withCollector(
  fn: (endpoint: string, bodies: { path: string; type: string; body: string }[]) => Promise<void>,
): Promise<void> {
  const bodies: { path: string; type: string; body: string }[] = [];
  const collector = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      bodies.push({
        path: req.url ?? "",
        type: req.headers["content-type"] ?? "",
        body: Buffer.concat(chunks).toString("utf8"),
      });
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((resolve) => collector.listen(0, "127.0.0.1", resolve));
  try {
    const { port } = collector.address() as AddressInfo;
    await fn(`http://127.0.0.1:${port}/v1/traces`, bodies);
  } finally {
    await new Promise((resolve) => collector.close(resolve));
  }
}
