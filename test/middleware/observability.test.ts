// tracing, metrics and logging on both transports, server and client side, over real sockets
// with the OpenTelemetry SDK recording in memory.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { context, SpanKind, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import {
  CompositePropagator,
  W3CBaggagePropagator,
  W3CTraceContextPropagator,
} from "@opentelemetry/core";
import { MeterProvider, MetricReader } from "@opentelemetry/sdk-metrics";
import type { HistogramMetricData, MetricData } from "@opentelemetry/sdk-metrics";
import {
  InMemorySpanExporter,
  SimpleSpanProcessor,
  TracerProvider,
} from "@opentelemetry/sdk-trace";
import type { ReadableSpan } from "@opentelemetry/sdk-trace";
import type { Context } from "kratos-ts/context";
import { createLogger } from "kratos-ts/log";
import { logging, metrics, recovery, tracing, validate } from "kratos-ts/middleware";
import type { Middleware } from "kratos-ts/middleware";
import { createGrpcClient, createGrpcServer } from "kratos-ts/transport/grpc";
import type { GrpcServer } from "kratos-ts/transport/grpc";
import { createHttpClient, createHttpServer } from "kratos-ts/transport/http";
import type { HttpServer } from "kratos-ts/transport/http";
import { errorGreetingNotFound } from "../../api/helloworld/v1/error_reason_errors.js";
import {
  createGreeterHTTPClient,
  registerGreeterHTTPServer,
} from "../../api/helloworld/v1/greeter_http.js";
import type { GreeterHTTPServer } from "../../api/helloworld/v1/greeter_http.js";
import { Greeter } from "../../api/helloworld/v1/greeter_pb.js";
import type { HelloRequest } from "../../api/helloworld/v1/greeter_pb.js";

class TestReader extends MetricReader {
  protected onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

const sayHello = "/helloworld.v1.Greeter/SayHello";
const getGreeting = "/helloworld.v1.Greeter/GetGreeting";

describe("tracing, metrics and logging on HTTP and gRPC", () => {
  const contextManager = new AsyncLocalStorageContextManager();
  const exporter = new InMemorySpanExporter();
  const tracerProvider = new TracerProvider({
    spanProcessors: [new SimpleSpanProcessor({ exporter })],
  });
  const propagator = new CompositePropagator({
    propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()],
  });
  const reader = new TestReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({
    destination: {
      write: (line: string) => {
        lines.push(JSON.parse(line) as Record<string, unknown>);
      },
    },
  });
  const handlerSpans: string[] = [];
  const service: GreeterHTTPServer = {
    sayHello(req: HelloRequest, _ctx: Context) {
      // The handler runs inside the server span, so the active span is the call's.
      handlerSpans.push(trace.getSpan(context.active())?.spanContext().spanId ?? "none");
      logger.info({ name: req.name }, "handler");
      return Promise.resolve({ message: `Hello ${req.name}` });
    },
    createGreeting() {
      return Promise.resolve({});
    },
    getGreeting() {
      return Promise.reject(errorGreetingNotFound("no such greeting"));
    },
  };
  const chain = (): Middleware[] => [
    recovery({ logger }),
    tracing.server({ tracerProvider, propagator }),
    logging.server({ logger }),
    metrics.server({ meterProvider }),
    validate(),
  ];
  let http: HttpServer;
  let rpc: GrpcServer;

  before(async () => {
    context.setGlobalContextManager(contextManager.enable());
    http = createHttpServer({ addr: "127.0.0.1:0", middleware: chain() });
    rpc = createGrpcServer({ addr: "127.0.0.1:0", middleware: chain() });
    registerGreeterHTTPServer(http, service);
    rpc.register(Greeter, service);
    await Promise.all([http.start(), rpc.start()]);
  });

  after(async () => {
    await Promise.all([http.stop(), rpc.stop()]);
    context.disable();
  });

  const clientChain = (): Middleware[] => [
    tracing.client({ tracerProvider, propagator }),
    metrics.client({ meterProvider }),
  ];

  it("continues the client's trace into a server span named after the operation", async () => {
    exporter.reset();
    handlerSpans.length = 0;
    lines.length = 0;
    const httpClient = createGreeterHTTPClient(
      createHttpClient({ endpoint: http.endpoint().href, middleware: clientChain() }),
    );
    const grpcClient = createGrpcClient(Greeter, {
      endpoint: rpc.endpoint().host,
      middleware: clientChain(),
    });
    try {
      await httpClient.sayHello({ name: "http" });
      await grpcClient.sayHello({ name: "grpc" });
    } finally {
      grpcClient.close();
    }
    const spans = exporter.getFinishedSpans();
    const servers = spans.filter((s) => s.kind === SpanKind.SERVER);
    const clients = spans.filter((s) => s.kind === SpanKind.CLIENT);
    assert.equal(servers.length, 2);
    assert.equal(clients.length, 2);
    for (const [i, server] of servers.entries()) {
      const client = clients[i] as ReadableSpan;
      assert.equal(server.name, sayHello);
      assert.equal(client.name, sayHello);
      assert.equal(server.spanContext().traceId, client.spanContext().traceId, "one trace");
      assert.equal(server.parentSpanContext?.spanId, client.spanContext().spanId);
      assert.equal(server.attributes["rpc.service"], "helloworld.v1.Greeter");
      assert.equal(server.attributes["rpc.method"], "SayHello");
      assert.equal(handlerSpans[i], server.spanContext().spanId, "the server span is active");
    }
    const [httpSpan, grpcSpan] = servers as [ReadableSpan, ReadableSpan];
    assert.equal(httpSpan.attributes["http.request.method"], "GET");
    assert.equal(httpSpan.attributes["http.route"], "/helloworld/{name}");
    assert.equal(httpSpan.attributes["http.response.status_code"], 200);
    assert.equal(grpcSpan.attributes["rpc.system"], "grpc");
    assert.equal(grpcSpan.attributes["rpc.grpc.status_code"], 0);
    // One call line per transport, each in its call's trace.
    const calls = lines.filter((l) => l["msg"] === "server call");
    assert.deepEqual(
      calls.map((l) => [l["component"], l["operation"], l["code"], l["trace.id"]]),
      [
        ["http", sayHello, 200, httpSpan.spanContext().traceId],
        ["grpc", sayHello, 200, grpcSpan.spanContext().traceId],
      ],
    );
  });

  it("marks a failed call's span as an error with its code and reason", async () => {
    exporter.reset();
    const res = await fetch(new URL("/v1/greetings/7", http.endpoint()));
    assert.equal(res.status, 404);
    const grpcClient = createGrpcClient(Greeter, { endpoint: rpc.endpoint().host });
    await assert.rejects(grpcClient.getGreeting({ id: 7n }));
    grpcClient.close();
    const spans = exporter.getFinishedSpans();
    assert.equal(spans.length, 2);
    for (const span of spans) {
      assert.equal(span.name, getGreeting);
      assert.equal(span.status.code, 2, "ERROR");
      assert.equal(span.status.message, "GREETING_NOT_FOUND: no such greeting");
      assert.equal(span.attributes["kratos.error.code"], 404);
      assert.equal(span.attributes["kratos.error.reason"], "GREETING_NOT_FOUND");
    }
    assert.equal(spans[0]?.attributes["http.response.status_code"], 404);
    assert.equal(spans[1]?.attributes["rpc.grpc.status_code"], 5);
  });

  it("continues an incoming traceparent and its log lines carry the trace and span ids", async () => {
    exporter.reset();
    lines.length = 0;
    const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    await fetch(new URL("/helloworld/traced", http.endpoint()), {
      headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
    });
    const [span] = exporter.getFinishedSpans();
    assert.equal(span?.spanContext().traceId, traceId);
    const handlerLine = lines.find((l) => l["msg"] === "handler");
    const callLine = lines.find((l) => l["msg"] === "server call");
    assert.ok(handlerLine !== undefined && callLine !== undefined);
    for (const line of [handlerLine, callLine]) {
      assert.equal(line["trace.id"], traceId);
      assert.equal(line["span.id"], span.spanContext().spanId);
    }
    assert.equal(callLine["operation"], sayHello);
    assert.equal(callLine["component"], "http");
    assert.equal(callLine["code"], 200);
  });

  it("counts requests by kind, operation, code and reason, and times them", async () => {
    await fetch(new URL("/helloworld/m", http.endpoint()));
    await fetch(new URL(`/helloworld/${"x".repeat(65)}`, http.endpoint()));
    const grpcClient = createGrpcClient(Greeter, { endpoint: rpc.endpoint().host });
    await assert.rejects(grpcClient.getGreeting({ id: 1n }));
    grpcClient.close();
    const { resourceMetrics } = await reader.collect();
    const all = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics);
    const byName = (name: string): MetricData => {
      const found = all.find((m) => m.descriptor.name === name);
      assert.ok(found, `${name} is exported`);
      return found;
    };
    const counts = byName("server_requests_code_total").dataPoints.map((p) => ({
      ...p.attributes,
      value: p.value,
    }));
    const count = (attrs: Record<string, unknown>) =>
      counts.find((c) => Object.entries(attrs).every(([k, v]) => c[k as keyof typeof c] === v))
        ?.value;
    assert.ok(Number(count({ kind: "http", operation: sayHello, code: 200, reason: "" })) >= 1);
    assert.equal(count({ kind: "http", operation: sayHello, code: 400, reason: "VALIDATOR" }), 1);
    assert.ok(
      Number(
        count({ kind: "grpc", operation: getGreeting, code: 404, reason: "GREETING_NOT_FOUND" }),
      ) >= 1,
    );
    const seconds = byName("server_requests_seconds") as HistogramMetricData;
    const point = seconds.dataPoints.find(
      (p) => p.attributes["kind"] === "http" && p.attributes["operation"] === sayHello,
    );
    assert.deepEqual(
      point?.value.buckets.boundaries,
      [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    );
    assert.ok(point.value.count >= 2);
    assert.ok(
      all.some((m) => m.descriptor.name === "client_requests_code_total"),
      "client twins",
    );
  });
});
