import { metrics as otelMetrics } from "@opentelemetry/api";
import type { Counter, Histogram, MeterProvider } from "@opentelemetry/api";
import type { Context } from "../context.js";
import { fromError } from "../errors/from-error.js";
import { packageVersion } from "../internal/package-version.js";
import { clientTransport, serverTransport } from "../transport/transport.js";
import type { Transporter } from "../transport/transport.js";
import type { Middleware } from "./middleware.js";

/** Options of {@link metrics}. */
export interface MetricsOptions {
  /** Default: the global provider (set by the OpenTelemetry SDK; a no-op without one). */
  meterProvider?: MeterProvider;
}

/** The histogram buckets of Kratos's `server_requests_seconds`, in seconds. */
export const latencyBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];

/**
 * Request metrics through the OpenTelemetry meter (Kratos `metrics.Server` / `metrics.Client`):
 * a counter `server_requests_code_total{kind, operation, code, reason}` and a histogram
 * `server_requests_seconds{kind, operation}`; the client side writes `client_requests_*`. `kind`
 * is the transport (`http`, `grpc`), `code` the HTTP-style code (200 on success).
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
  const get = () => {
    const current = options.meterProvider ?? otelMetrics.getMeterProvider();
    if (current === provider && instruments !== undefined) return instruments;
    const meter = current.getMeter("kratos-ts", packageVersion());
    provider = current;
    instruments = {
      requests: meter.createCounter(`${side}_requests_code_total`, {
        description: `The total number of processed ${side} requests`,
      }),
      seconds: meter.createHistogram(`${side}_requests_seconds`, {
        description: `${side} requests duration (sec)`,
        unit: "s",
        advice: { explicitBucketBoundaries: latencyBuckets },
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
        const { requests, seconds } = get();
        const kind = transport.kind;
        const operation = transport.operation;
        requests.add(1, { kind, operation, code, reason });
        seconds.record((performance.now() - start) / 1000, { kind, operation });
      }
    };
}
