import type { IncomingMessage, ServerResponse } from "node:http";
import { context, diag, metrics, propagation, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import {
  CompositePropagator,
  W3CBaggagePropagator,
  W3CTraceContextPropagator,
} from "@opentelemetry/core";
import { PrometheusExporter } from "@opentelemetry/exporter-prometheus";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { MeterProvider } from "@opentelemetry/sdk-metrics";
import { BatchSpanProcessor, TracerProvider } from "@opentelemetry/sdk-trace";
import { installRequestRecorder, requestMetricsScope } from "../internal/request-metrics.js";
import { LazySpanExporter } from "./lazy-span-exporter.js";
import { RequestMetricsProducer } from "./request-metrics-producer.js";
import { samplerFromEnv } from "./sampler-from-env.js";
import { PooledIdGenerator } from "./pooled-id-generator.js";
import { UnrecordedTracerProvider } from "./unrecorded-tracer-provider.js";

/** Options of {@link startTelemetry}. */
export interface TelemetryOptions {
  /** `service.name` of the resource. */
  serviceName: string;
  /** `service.version`. */
  serviceVersion?: string;
  /** `service.instance.id` (the app id). */
  serviceInstanceId?: string;
  /**
   * Where spans go: an OTLP/HTTP traces URL (`http://collector:4318/v1/traces`). Unset: spans are
   * not recorded, but every call still gets its span context (log lines get trace ids, traces
   * propagate with the sampler's flag), see {@link UnrecordedTracerProvider}.
   */
  otlpEndpoint?: string;
  /** Collect metrics for a Prometheus scrape through {@link Telemetry.metricsHandler}. Default true. */
  prometheus?: boolean;
}

/** A started OpenTelemetry SDK. */
export interface Telemetry {
  /**
   * Serves the metrics in the Prometheus text format; mount it on the HTTP server
   * (`server.handle("GET", "/metrics", telemetry.metricsHandler)`). Undefined without Prometheus.
   */
  metricsHandler: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  /** Flushes and stops the SDK (the app's after-stop hook). */
  shutdown(): Promise<void>;
}

/**
 * Starts OpenTelemetry for a service: W3C trace context and baggage propagation, the
 * AsyncLocalStorage context manager (so log lines carry the active trace), a tracer provider
 * (sampler from `OTEL_TRACES_SAMPLER` / `OTEL_TRACES_SAMPLER_ARG`, see {@link samplerFromEnv}),
 * and a meter provider read by Prometheus, all registered as the API's globals. Nothing is sent
 * anywhere unless `otlpEndpoint` is set.
 *
 * The parts are set up directly rather than through `@opentelemetry/sdk-node`, whose module graph
 * loads every OTLP exporter (gRPC, HTTP, protobuf, for traces, metrics and logs) and costs ~23 MiB
 * more RSS in every service; the OTLP trace exporter is loaded only when an endpoint is set.
 */
export function startTelemetry(options: TelemetryOptions): Telemetry {
  // The metrics middleware's request metrics, aggregated in place and read with the SDK's.
  const requestMetrics =
    options.prometheus === false ? undefined : new RequestMetricsProducer(requestMetricsScope());
  const prometheus =
    requestMetrics === undefined
      ? undefined
      : new PrometheusExporter({ preventServerStart: true, metricProducers: [requestMetrics] });
  const attributes: Record<string, string> = { "service.name": options.serviceName };
  if (options.serviceVersion !== undefined) attributes["service.version"] = options.serviceVersion;
  if (options.serviceInstanceId !== undefined) {
    attributes["service.instance.id"] = options.serviceInstanceId;
  }
  const resource = resourceFromAttributes(attributes);
  const endpoint = options.otlpEndpoint ?? "";

  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  propagation.setGlobalPropagator(
    new CompositePropagator({
      propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()],
    }),
  );
  const sampler = samplerFromEnv(process.env, (message) => {
    diag.warn(message);
  });
  const idGenerator = new PooledIdGenerator();
  // With nowhere to send spans, none is recorded: the same ids and sampled flags, no span data.
  const tracerProvider =
    endpoint === ""
      ? new UnrecordedTracerProvider({ sampler, idGenerator })
      : new TracerProvider({
          resource,
          sampler,
          idGenerator,
          spanProcessors: [
            new BatchSpanProcessor({
              exporter: new LazySpanExporter(async () => {
                const { OTLPTraceExporter } =
                  await import("@opentelemetry/exporter-trace-otlp-http");
                return new OTLPTraceExporter({ url: endpoint });
              }),
            }),
          ],
        });
  trace.setGlobalTracerProvider(tracerProvider);
  const meterProvider = new MeterProvider({
    resource,
    readers: prometheus === undefined ? [] : [prometheus],
  });
  metrics.setGlobalMeterProvider(meterProvider);
  const uninstallRecorder =
    requestMetrics === undefined
      ? undefined
      : installRequestRecorder(meterProvider, requestMetrics);

  return {
    metricsHandler:
      prometheus === undefined
        ? undefined
        : (req, res) => {
            prometheus.getMetricsRequestHandler(req, res);
          },
    shutdown: async () => {
      try {
        await Promise.all([tracerProvider.shutdown(), meterProvider.shutdown()]);
      } finally {
        uninstallRecorder?.();
        // The globals go too, so a later startTelemetry (a restart in the same process, a
        // test) can register its own.
        trace.disable();
        metrics.disable();
        propagation.disable();
        context.disable();
      }
    },
  };
}
