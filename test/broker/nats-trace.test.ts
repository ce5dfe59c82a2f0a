// The Done-when line of issue 24 for tracing, and the kit's middleware per message: an HTTP call
// publishes an event that a subscriber (in the same app) consumes; one trace id is seen in the
// HTTP span, the publish span and the consume span, and recovery, logging, metrics and validate
// run around the message as they do around the request.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { context, SpanKind } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import {
  InMemorySpanExporter,
  SimpleSpanProcessor,
  TracerProvider,
} from "@opentelemetry/sdk-trace";
import { createApp } from "kratos-ts/app";
import type { App } from "kratos-ts/app";
import { createBrokerServer, createPublisher } from "kratos-ts/broker";
import type { Broker } from "kratos-ts/broker";
import { createNatsBroker } from "kratos-ts/broker/nats";
import { createContext } from "kratos-ts/context";
import { createLogger } from "kratos-ts/log";
import { logging, metrics, recovery, tracing, validate } from "kratos-ts/middleware";
import type { Middleware } from "kratos-ts/middleware";
import { createHttpServer } from "kratos-ts/transport/http";
import type { HttpServer } from "kratos-ts/transport/http";
import { registerGreeterHTTPServer } from "../../api/helloworld/v1/greeter_http.js";
import { GreetingSchema, HelloRequestSchema } from "../../api/helloworld/v1/greeter_pb.js";
import type { Greeting } from "../../api/helloworld/v1/greeter_pb.js";
import { eventually } from "../helpers/etcd.js";
import { testMeters } from "../helpers/metric-reader.js";
import { natsSkip, startNats } from "../helpers/nats.js";
import type { NatsServer } from "../helpers/nats.js";

describe(
  "one trace from an HTTP call through NATS to the consumer",
  { skip: natsSkip(), timeout: 60_000 },
  () => {
    const contextManager = new AsyncLocalStorageContextManager();
    const exporter = new InMemorySpanExporter();
    const tracerProvider = new TracerProvider({
      spanProcessors: [new SimpleSpanProcessor({ exporter })],
    });
    const propagator = new W3CTraceContextPropagator();
    const meters = testMeters();
    const meterProvider = meters.meterProvider;
    const lines: Record<string, unknown>[] = [];
    const logger = createLogger({
      destination: {
        write: (line: string) => {
          lines.push(JSON.parse(line) as Record<string, unknown>);
        },
      },
    });
    const chain = (): Middleware[] => [
      recovery({ logger }),
      tracing.server({ tracerProvider, propagator }),
      logging.server({ logger }),
      metrics.server({ meterProvider }),
      validate(),
    ];
    const consumed: Greeting[] = [];
    let nats: NatsServer;
    let broker: Broker;
    let http: HttpServer;
    let app: App;
    let running: Promise<void>;

    before(async () => {
      context.setGlobalContextManager(contextManager.enable());
      nats = await startNats();
      broker = createNatsBroker({ servers: nats.url });
      const greetings = createPublisher({
        broker,
        schema: GreetingSchema,
        topic: "greetings.created",
        middleware: [tracing.client({ tracerProvider, propagator })],
      });
      http = createHttpServer({ addr: "127.0.0.1:0", middleware: chain() });
      registerGreeterHTTPServer(http, {
        async sayHello(req, ctx) {
          await greetings.publish(ctx, { name: req.name, message: `Hello ${req.name}` });
          return { message: `Hello ${req.name}` };
        },
        createGreeting: () => Promise.resolve({}),
        getGreeting: () => Promise.resolve({}),
      });
      const events = createBrokerServer({ broker, middleware: chain() })
        .subscribe({
          topic: "greetings.created",
          schema: GreetingSchema,
          queue: "counter",
          handler: (g) => {
            consumed.push(g);
            return Promise.resolve();
          },
        })
        .subscribe({
          topic: "hello.requests",
          schema: HelloRequestSchema,
          queue: "hello",
          handler: () => Promise.reject(new Error("a bug in the handler")),
        });
      let ready: () => void = () => undefined;
      const started = new Promise<void>((resolve) => (ready = resolve));
      app = createApp({
        name: "traced",
        signals: [],
        servers: [events, http],
        afterStart: [
          () => {
            ready();
          },
        ],
        afterStop: [() => broker.close()],
      });
      running = app.run();
      await started;
    });

    after(async () => {
      await app.stop();
      await running;
      await nats.close();
      context.disable();
    });

    it("carries the trace id through the message headers", async () => {
      const res = await fetch(new URL("/helloworld/ann", http.endpoint()));
      assert.equal(res.status, 200);
      await eventually("the greeting consumed", () => consumed.length === 1);
      await eventually("three spans", () => exporter.getFinishedSpans().length >= 3);
      const spans = exporter.getFinishedSpans();
      const httpSpan = spans.find((s) => s.kind === SpanKind.SERVER);
      const publishSpan = spans.find((s) => s.kind === SpanKind.PRODUCER);
      const consumeSpan = spans.find((s) => s.kind === SpanKind.CONSUMER);
      assert.ok(httpSpan && publishSpan && consumeSpan);
      const traceId = httpSpan.spanContext().traceId;
      assert.equal(publishSpan.spanContext().traceId, traceId);
      assert.equal(consumeSpan.spanContext().traceId, traceId);
      assert.equal(publishSpan.parentSpanContext?.spanId, httpSpan.spanContext().spanId);
      assert.equal(consumeSpan.parentSpanContext?.spanId, publishSpan.spanContext().spanId);
      assert.equal(consumeSpan.name, "greetings.created");
      assert.equal(consumeSpan.attributes["messaging.system"], "nats");
      assert.equal(consumeSpan.attributes["messaging.destination.name"], "greetings.created");
      // The consumer's log line names the transport and the topic, in the same trace.
      const line = lines.find((l) => l["component"] === "broker");
      assert.ok(line);
      assert.equal(line["operation"], "greetings.created");
      assert.equal(line["code"], 200);
      assert.equal(line["trace.id"], traceId);
    });

    it("runs recovery, validate and metrics per message", async () => {
      const raw = createPublisher({ broker, schema: HelloRequestSchema, topic: "hello.requests" });
      const ctx = createContext();
      await raw.publish(ctx, { name: "" }); // breaks min_len: validate says 400 VALIDATOR
      await raw.publish(ctx, { name: "bob" }); // the handler throws: recovery catches the bug
      await eventually(
        "both failures logged",
        () =>
          lines.filter((l) => l["operation"] === "hello.requests" && l["level"] === "error")
            .length >= 2,
      );
      const codes = lines
        .filter((l) => l["operation"] === "hello.requests")
        .map((l) => `${String(l["code"])} ${String(l["reason"])}`);
      assert.ok(codes.includes("400 VALIDATOR"), codes.join());
      // logging sits inside recovery: it logs the bare error; recovery logs the bug with its stack.
      assert.ok(codes.includes("500 "), codes.join());
      await eventually("the recovery line", () =>
        lines.some(
          (l) =>
            l["msg"] === "recovered from an unexpected error" &&
            l["operation"] === "hello.requests",
        ),
      );
      const count = (labels: Record<string, string | number>) =>
        meters.value("server_requests_code_total", { kind: "broker", ...labels });
      assert.equal(await count({ operation: "greetings.created", code: 200 }), 1);
      assert.ok((await count({ operation: "hello.requests", reason: "VALIDATOR" })) >= 1);
    });
  },
);
