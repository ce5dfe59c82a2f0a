import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
} from "@opentelemetry/api";
import type {
  Attributes,
  Context as OtelContext,
  TextMapGetter,
  TextMapPropagator,
  TextMapSetter,
  Tracer,
  TracerProvider,
} from "@opentelemetry/api";
import { fromError } from "../errors/from-error.js";
import { grpcCodeFromHttp } from "../errors/grpc.js";
import { packageVersion } from "../internal/package-version.js";
import type { Header } from "../transport/header.js";
import { clientTransport, serverTransport } from "../transport/transport.js";
import type { Transporter } from "../transport/transport.js";
import type { Middleware } from "./middleware.js";

/** Options of {@link tracing}. */
export interface TracingOptions {
  /** Default: the global provider (set by the OpenTelemetry SDK; a no-op without one). */
  tracerProvider?: TracerProvider;
  /** Default: the global propagator (W3C traceparent + baggage once the SDK is started). */
  propagator?: TextMapPropagator;
}

const getter: TextMapGetter<Header> = {
  keys: (header) => header.keys(),
  get: (header, key) => header.get(key),
};

const setter: TextMapSetter<Header> = {
  set: (header, key, value) => {
    header.set(key, value);
  },
};

/**
 * OpenTelemetry spans around calls (Kratos `tracing.Server` / `tracing.Client`): the server
 * continues the trace of the incoming W3C `traceparent` / `baggage` headers, the client injects
 * them, on every transport (an event's message headers included: one trace spans an HTTP call,
 * the publish and the consume). The span is named after the operation, with kind SERVER / CLIENT
 * (CONSUMER / PRODUCER and `messaging.destination.name` for events),
 * `rpc.system` (gRPC), `rpc.service`, `rpc.method`, `http.request.method` and `http.route` (HTTP)
 * and the status code; an error sets the span status to ERROR with its code and reason. The span
 * is active while the handler runs, so log lines written meanwhile carry its trace and span ids.
 */
export const tracing = {
  server(options: TracingOptions = {}): Middleware {
    const tracerOf = lazyTracer(options);
    return (next) =>
      async function tracing(ctx, req) {
        const transport = serverTransport(ctx);
        if (transport === undefined) return next(ctx, req);
        const parent = extract(options, transport.requestHeader);
        const span = tracerOf().startSpan(
          transport.operation,
          {
            kind: transport.kind === "broker" ? SpanKind.CONSUMER : SpanKind.SERVER,
            attributes: attributes(transport),
          },
          parent,
        );
        return traced(span, trace.setSpan(parent, span), transport, () => next(ctx, req));
      };
  },
  client(options: TracingOptions = {}): Middleware {
    const tracerOf = lazyTracer(options);
    return (next) =>
      async function tracing(ctx, req) {
        const transport = clientTransport(ctx);
        if (transport === undefined) return next(ctx, req);
        const parent = context.active();
        const span = tracerOf().startSpan(
          transport.operation,
          {
            kind: transport.kind === "broker" ? SpanKind.PRODUCER : SpanKind.CLIENT,
            attributes: attributes(transport),
          },
          parent,
        );
        const active = trace.setSpan(parent, span);
        (options.propagator ?? propagation).inject(active, transport.requestHeader, setter);
        return traced(span, active, transport, () => next(ctx, req));
      };
  },
};

/**
 * The tracer of the provider in use, fetched again when the provider changes: a middleware built
 * before the SDK started, or kept across a telemetry shutdown and restart (which installs a new
 * global provider), records into the current one rather than a no-op or a shut-down one.
 */
function lazyTracer(options: TracingOptions): () => Tracer {
  let provider: TracerProvider | undefined;
  let tracer: Tracer | undefined;
  return () => {
    const current = options.tracerProvider ?? trace.getTracerProvider();
    if (current !== provider || tracer === undefined) {
      provider = current;
      tracer = current.getTracer("kratos-ts", packageVersion());
    }
    return tracer;
  };
}

function extract(options: TracingOptions, header: Header): OtelContext {
  return (options.propagator ?? propagation).extract(ROOT_CONTEXT, header, getter);
}

async function traced(
  span: ReturnType<Tracer["startSpan"]>,
  active: OtelContext,
  transport: Transporter,
  call: () => Promise<unknown>,
): Promise<unknown> {
  try {
    const reply = await context.with(active, call);
    // A span nobody records (unsampled, or no exporter) takes no attributes: skip building them.
    if (span.isRecording()) span.setAttributes(statusAttributes(transport, 200));
    return reply;
  } catch (err) {
    if (!span.isRecording()) throw err;
    const e = fromError(err);
    span.setAttributes({
      ...statusAttributes(transport, e.code),
      "kratos.error.code": e.code,
      "kratos.error.reason": e.reason,
    });
    span.setStatus({
      code: SpanStatusCode.ERROR,
      message: e.reason === "" ? e.message : `${e.reason}: ${e.message}`,
    });
    throw err;
  } finally {
    span.end();
  }
}

function attributes(transport: Transporter): Attributes {
  const operation = transport.operation;
  // An event's operation is its topic (OpenTelemetry's messaging conventions).
  if (transport.kind === "broker") {
    const endpoint = transport.endpoint;
    return {
      // The engine, by the endpoint's scheme: nats://... -> nats.
      "messaging.system": endpoint.slice(0, Math.max(endpoint.indexOf(":"), 0)),
      "messaging.destination.name": operation,
    };
  }
  const slash = operation.lastIndexOf("/");
  const attrs: Attributes = {
    "rpc.service": operation.slice(1, Math.max(slash, 1)),
    "rpc.method": operation.slice(slash + 1),
  };
  if (transport.kind === "grpc") attrs["rpc.system"] = "grpc";
  const http = transport as Partial<{ request: { method?: string }; pathTemplate: string }>;
  if (transport.kind === "http") {
    if (http.request?.method !== undefined) attrs["http.request.method"] = http.request.method;
    if (http.pathTemplate !== undefined) attrs["http.route"] = http.pathTemplate;
  }
  return attrs;
}

function statusAttributes(transport: Transporter, code: number): Attributes {
  if (transport.kind === "grpc") return { "rpc.grpc.status_code": grpcCodeFromHttp(code) };
  if (transport.kind === "broker") return { "kratos.code": code };
  const status = (transport as Partial<{ status: number }>).status;
  return { "http.response.status_code": code === 200 && status !== undefined ? status : code };
}
