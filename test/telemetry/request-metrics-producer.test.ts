// The metrics middleware's in-place aggregation under startTelemetry: what it collects, its
// series limit, that the middleware takes it, and that Prometheus reads the same text from it as
// from the SDK's instruments.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { metrics as otelMetrics } from "@opentelemetry/api";
import type { MeterProvider as ApiMeterProvider } from "@opentelemetry/api";
import { PrometheusExporter } from "@opentelemetry/exporter-prometheus";
import { DataPointType, MeterProvider } from "@opentelemetry/sdk-metrics";
import { createContext } from "kratos-ts/context";
import { KratosError } from "kratos-ts/errors";
import { metrics } from "kratos-ts/middleware";
import type { Handler } from "kratos-ts/middleware";
import { startTelemetry } from "kratos-ts/telemetry";
import { setClientTransport, setServerTransport } from "kratos-ts/transport";
import { RequestMetricsProducer } from "../../src/telemetry/request-metrics-producer.js";
import { scrape, transportFor } from "../helpers/telemetry.js";

const scope = { name: "kratos-ts", version: "test" };

async function collect(producer: RequestMetricsProducer) {
  const { resourceMetrics } = await producer.collect();
  return resourceMetrics.scopeMetrics;
}

/**
 * How long each call of {@link calls} takes, in ms, by request: spread over several buckets, and
 * whole numbers of ms so that every latency in seconds is exact.
 */
const latencyMs: Record<string, number> = { ok: 3, slow: 30, fail: 700, list: 4, client: 1500 };

/**
 * The same calls through server and client metrics middleware built on `provider`. With `clock`,
 * each call advances it by its {@link latencyMs}: a test that mocks `performance.now` to read it
 * gets the same latencies on every run, however the machine schedules the process.
 */
async function calls(provider?: ApiMeterProvider, clock?: { now: number }): Promise<void> {
  const options = provider === undefined ? {} : { meterProvider: provider };
  const inner: Handler = (_ctx, req) => {
    if (clock !== undefined) clock.now += latencyMs[String(req)] ?? 0;
    return req === "fail"
      ? Promise.reject(new KratosError(404, "THING_NOT_FOUND", "no"))
      : Promise.resolve("ok");
  };
  const server = metrics.server(options)(inner);
  const client = metrics.client(options)(inner);
  for (const [operation, req] of [
    ["/a.v1.Things/Get", "ok"],
    ["/a.v1.Things/Get", "slow"],
    ["/a.v1.Things/Get", "fail"],
    ["/a.v1.Things/List", "list"],
  ] as const) {
    const ctx = createContext();
    setServerTransport(ctx, transportFor("grpc", operation));
    await server(ctx, req).catch(() => undefined);
  }
  const ctx = createContext();
  setClientTransport(ctx, transportFor("http", "/b.v1.Other/Call"));
  await client(ctx, "client");
}

describe("request metrics aggregated in place", () => {
  it("counts by kind, operation, code and reason, and buckets latencies as the SDK does", async () => {
    const producer = new RequestMetricsProducer(scope);
    producer.record("server", "grpc", "/a/B", 200, "", 0.005);
    producer.record("server", "grpc", "/a/B", 200, "", 0.3);
    producer.record("server", "grpc", "/a/B", 404, "NOT_FOUND", 2);
    const [scoped] = await collect(producer);
    assert.ok(scoped !== undefined);
    assert.deepEqual(scoped.scope, scope);
    const [counter, histogram] = scoped.metrics;
    assert.ok(counter?.dataPointType === DataPointType.SUM);
    assert.equal(counter.descriptor.name, "server_requests_code_total");
    assert.equal(counter.isMonotonic, true);
    assert.deepEqual(
      counter.dataPoints.map((p) => [p.attributes, p.value]),
      [
        [{ kind: "grpc", operation: "/a/B", code: 200, reason: "" }, 2],
        [{ kind: "grpc", operation: "/a/B", code: 404, reason: "NOT_FOUND" }, 1],
      ],
    );
    assert.ok(histogram?.dataPointType === DataPointType.HISTOGRAM);
    assert.equal(histogram.descriptor.name, "server_requests_seconds");
    assert.equal(histogram.descriptor.unit, "s");
    const [point] = histogram.dataPoints;
    assert.ok(point !== undefined);
    assert.deepEqual(point.attributes, { kind: "grpc", operation: "/a/B" });
    // A boundary holds the values up to and including it; 2 s is past the last one.
    assert.deepEqual(point.value.buckets, {
      boundaries: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      counts: [1, 0, 0, 0, 0, 0, 1, 0, 1],
    });
    assert.equal(point.value.count, 3);
    assert.equal(point.value.sum, 2.305);
    assert.equal(point.value.min, 0.005);
    assert.equal(point.value.max, 2);
  });

  it("collects nothing before the first call", async () => {
    assert.deepEqual(await collect(new RequestMetricsProducer(scope)), []);
  });

  it("puts attribute sets past the SDK's limit of 2000 series into one overflow series", async () => {
    const producer = new RequestMetricsProducer(scope);
    for (let i = 0; i < 2100; i++) producer.record("client", "http", `/op/${i}`, 200, "", 0.001);
    const [counter, histogram] = (await collect(producer))[0]?.metrics ?? [];
    assert.ok(counter?.dataPointType === DataPointType.SUM);
    assert.equal(counter.dataPoints.length, 2000);
    assert.deepEqual(counter.dataPoints.at(-1)?.attributes, { "otel.metric.overflow": true });
    assert.equal(counter.dataPoints.at(-1)?.value, 101);
    assert.ok(histogram?.dataPointType === DataPointType.HISTOGRAM);
    assert.equal(histogram.dataPoints.length, 2000);
  });

  it("is what the middleware records into under startTelemetry, not the SDK's instruments", async () => {
    const telemetry = startTelemetry({ serviceName: "svc" });
    try {
      const provider = otelMetrics.getMeterProvider();
      let meters = 0;
      const getMeter = provider.getMeter.bind(provider);
      provider.getMeter = (...args) => {
        meters++;
        return getMeter(...args);
      };
      await calls();
      assert.equal(meters, 0, "no instruments were made");
      const handler = telemetry.metricsHandler;
      assert.ok(handler !== undefined);
      assert.match(
        await scrape(handler),
        /^server_requests_code_total\{kind="grpc",operation="\/a.v1.Things\/Get",code="200",reason="",otel_scope_name="kratos-ts",otel_scope_version="[^"]+"\} 2$/m,
      );
    } finally {
      await telemetry.shutdown();
    }
  });

  it("gives Prometheus the same text as the SDK's instruments", async (t) => {
    // The latencies come from the clock the calls advance, not from how long the machine took:
    // a real clock put a call into another bucket whenever the process was descheduled for 5 ms.
    const clock = { now: 0 };
    t.mock.method(performance, "now", () => clock.now);
    // The instruments: a provider of our own, read by its own Prometheus exporter.
    const exporter = new PrometheusExporter({ preventServerStart: true });
    const provider = new MeterProvider({ readers: [exporter] });
    await calls(provider, clock);
    const viaInstruments = await scrape((req, res) => {
      exporter.getMetricsRequestHandler(req, res);
    });
    await provider.shutdown();
    const telemetry = startTelemetry({ serviceName: "svc" });
    let inPlace: string;
    try {
      await calls(undefined, clock);
      const handler = telemetry.metricsHandler;
      assert.ok(handler !== undefined);
      inPlace = await scrape(handler);
    } finally {
      await telemetry.shutdown();
    }
    // target_info is the resource: the rest, sums included, must match line for line.
    const normalize = (text: string) =>
      text
        .split("\n")
        .filter((line) => !line.includes("target_info"))
        .join("\n");
    assert.match(
      viaInstruments,
      /^server_requests_seconds_bucket\{kind="grpc",operation="\/a.v1.Things\/Get",.*le="0.5"\} 2$/m,
      "the calls fall into different buckets",
    );
    assert.equal(normalize(inPlace), normalize(viaInstruments));
  });
});
