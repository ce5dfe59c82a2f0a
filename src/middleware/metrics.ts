import { metrics as otelMetrics } from "@opentelemetry/api";
import type { Counter, Histogram, MeterProvider } from "@opentelemetry/api";
import type { Context } from "../context.js";
import { fromError } from "../errors/from-error.js";
import {
  latencyBuckets,
  requestInstruments,
  requestMetricsScope,
  requestRecorderFor,
} from "../internal/request-metrics.js";
import { clientTransport, serverTransport } from "../transport/transport.js";
import type { Transporter } from "../transport/transport.js";
import type { Middleware } from "./middleware.js";

/** Options of {@link metrics}. */
export interface MetricsOptions {
  /** Default: the global provider (set by the OpenTelemetry SDK; a no-op without one). */
  meterProvider?: MeterProvider;
}

export { latencyBuckets } from "../internal/request-metrics.js";

/**
 * Request metrics through the OpenTelemetry meter (Kratos `metrics.Server` / `metrics.Client`):
 * a counter `server_requests_code_total{kind, operation, code, reason}` and a histogram
 * `server_requests_seconds{kind, operation}`; the client side writes `client_requests_*`. `kind`
 * is the transport (`http`, `grpc`), `code` the HTTP-style code (200 on success). Under
 * `startTelemetry`'s provider the calls are aggregated in place and read by its Prometheus
 * reader, with the same exposition and a tenth of the instruments' cost; any other provider
 * (`meterProvider`, or an SDK set up by hand) records through its instruments.
 */
export const metrics = {
  server(options: MetricsOptions = {}): Middleware {
    return build("server", serverTransport, options);
  },
  client(options: MetricsOptions = {}): Middleware {
    return build("client", clientTransport, options);
  },
};

function build(
  side: "server" | "client",
  transportOf: (ctx: Context) => Transporter | undefined,
  options: MetricsOptions,
): Middleware {
  // Instruments are made from the provider in use, again whenever it changes: a middleware built
  // before the SDK started (main starts it later), or kept across a telemetry restart, records
  // into the current provider, not the no-op one or a shut-down one.
  let provider: MeterProvider | undefined;
  let instruments: { requests: Counter; seconds: Histogram } | undefined;
  const get = (current: MeterProvider) => {
    if (current === provider && instruments !== undefined) return instruments;
    const scope = requestMetricsScope();
    const meter = current.getMeter(scope.name, scope.version);
    const spec = requestInstruments(side);
    provider = current;
    instruments = {
      requests: meter.createCounter(spec.counter.name, {
        description: spec.counter.description,
      }),
      seconds: meter.createHistogram(spec.histogram.name, {
        description: spec.histogram.description,
        unit: spec.histogram.unit,
        advice: { explicitBucketBoundaries: [...latencyBuckets] },
      }),
    };
    return instruments;
  };
  return (next) =>
    async function metrics(ctx, req) {
      const transport = transportOf(ctx);
      if (transport === undefined) return next(ctx, req);
      const start = performance.now();
      let code = 200;
      let reason = "";
      try {
        return await next(ctx, req);
      } catch (err) {
        const e = fromError(err);
        code = e.code;
        reason = e.reason;
        throw err;
      } finally {
        const kind = transport.kind;
        const operation = transport.operation;
        const elapsed = (performance.now() - start) / 1000;
        const current = options.meterProvider ?? otelMetrics.getMeterProvider();
        // startTelemetry's provider has a recorder that aggregates in place (a tenth of the
        // instruments' cost); any other provider gets the instruments.
        const recorder = requestRecorderFor(current);
        if (recorder !== undefined) {
          recorder.record(side, kind, operation, code, reason, elapsed);
        } else {
          const { requests, seconds } = get(current);
          requests.add(1, { kind, operation, code, reason });
          seconds.record(elapsed, { kind, operation });
        }
      }
    };
}
