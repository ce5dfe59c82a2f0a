import type { IncomingMessage, ServerResponse } from "node:http";
import {
  CompositePropagator,
  W3CBaggagePropagator,
  W3CTraceContextPropagator,
} from "@opentelemetry/core";
import { PrometheusExporter } from "@opentelemetry/exporter-prometheus";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { NodeSDK } from "@opentelemetry/sdk-node";
import { BatchSpanProcessor, NoopSpanProcessor } from "@opentelemetry/sdk-trace";

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
   * still made (log lines get trace ids, traces propagate) but sent nowhere.
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
 * Starts the OpenTelemetry Node SDK for a service: W3C trace context and baggage propagation,
 * the AsyncLocalStorage context manager (so log lines carry the active trace), a tracer provider,
 * and a meter provider read by Prometheus. Nothing is sent anywhere unless `otlpEndpoint` is
 * set: the SDK's environment defaults (OTLP exporters for traces and logs) are turned off.
 */
export function startTelemetry(options: TelemetryOptions): Telemetry {
  const prometheus =
    options.prometheus === false ? undefined : new PrometheusExporter({ preventServerStart: true });
  const attributes: Record<string, string> = { "service.name": options.serviceName };
  if (options.serviceVersion !== undefined) attributes["service.version"] = options.serviceVersion;
  if (options.serviceInstanceId !== undefined) {
    attributes["service.instance.id"] = options.serviceInstanceId;
  }
  const endpoint = options.otlpEndpoint ?? "";
  const sdk = new NodeSDK({
    resource: resourceFromAttributes(attributes),
    autoDetectResources: false,
    textMapPropagator: new CompositePropagator({
      propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()],
    }),
    spanProcessors: [
      endpoint === ""
        ? new NoopSpanProcessor()
        : new BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url: endpoint }) }),
    ],
    metricReaders: prometheus === undefined ? [] : [prometheus],
    logRecordProcessors: [],
    instrumentations: [],
  });
  sdk.start();
  return {
    metricsHandler:
      prometheus === undefined
        ? undefined
        : (req, res) => {
            prometheus.getMetricsRequestHandler(req, res);
          },
    shutdown: () => sdk.shutdown(),
  };
}
