import {
  context,
  INVALID_SPAN_CONTEXT,
  isSpanContextValid,
  SpanKind,
  trace,
  TraceFlags,
} from "@opentelemetry/api";
import type {
  Context,
  Span,
  SpanOptions,
  Tracer,
  TracerOptions,
  TracerProvider,
} from "@opentelemetry/api";
import { isTracingSuppressed } from "@opentelemetry/core";
import { SamplingDecision } from "@opentelemetry/sdk-trace";
import type { IdGenerator, Sampler } from "@opentelemetry/sdk-trace";
import { PooledIdGenerator } from "./pooled-id-generator.js";

/** Options of {@link UnrecordedTracerProvider}. */
export interface UnrecordedTracerProviderOptions {
  /** Decides the sampled flag each span carries and propagates, as the SDK's sampler would. */
  sampler: Sampler;
  /** Default: {@link PooledIdGenerator}'s random W3C ids. */
  idGenerator?: IdGenerator;
}

/**
 * The tracer provider of a service whose spans go nowhere (no exporter configured). The SDK
 * would build, time and fill a span object per call only to drop it at its end (~4 us per call
 * in `npm run bench:middleware`); these tracers make the same span context instead (trace id
 * of the parent or a new one, a new span id, the sampled flag and trace state the sampler
 * decides, exactly as the SDK computes them) and wrap it in a non-recording span. So log lines
 * still carry `trace.id` / `span.id`, outgoing calls still propagate `traceparent` with the
 * right sampled flag, and downstream services that do export see the trace continue; only the
 * span data that nothing would read is not made. `span.isRecording()` is false, which tells
 * instrumentation to skip attributes and events too.
 */
export class UnrecordedTracerProvider implements TracerProvider {
  readonly #tracer: Tracer;

  constructor(options: UnrecordedTracerProviderOptions) {
    this.#tracer = new UnrecordedTracer(
      options.sampler,
      options.idGenerator ?? new PooledIdGenerator(),
    );
  }

  /** One tracer for every scope: no span data is kept, so a scope has nothing to label. */
  getTracer(_name?: string, _version?: string, _options?: TracerOptions): Tracer {
    return this.#tracer;
  }

  /** Nothing is buffered: resolves at once (the SDK provider's shutdown contract). */
  shutdown(): Promise<void> {
    return Promise.resolve();
  }

  /** Nothing is buffered: resolves at once. */
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
}

class UnrecordedTracer implements Tracer {
  readonly #sampler: Sampler;
  readonly #ids: IdGenerator;

  constructor(sampler: Sampler, ids: IdGenerator) {
    this.#sampler = sampler;
    this.#ids = ids;
  }

  startSpan(name: string, options: SpanOptions = {}, ctx: Context = context.active()): Span {
    // The SDK Tracer's steps, without the span object.
    const parentCtx = options.root === true ? trace.deleteSpan(ctx) : ctx;
    if (isTracingSuppressed(parentCtx)) return trace.wrapSpanContext(INVALID_SPAN_CONTEXT);
    const parent = trace.getSpanContext(parentCtx);
    const valid = parent !== undefined && isSpanContextValid(parent);
    // The SDK's order: the span id, then a trace id when there is no parent.
    const spanId = this.#ids.generateSpanId();
    const traceId = valid ? parent.traceId : this.#ids.generateTraceId();
    const result = this.#sampler.shouldSample(
      parentCtx,
      traceId,
      name,
      options.kind ?? SpanKind.INTERNAL,
      options.attributes ?? {},
      options.links ?? [],
    );
    const traceState = result.traceState ?? (valid ? parent.traceState : undefined);
    return trace.wrapSpanContext({
      traceId,
      spanId,
      traceFlags:
        result.decision === SamplingDecision.RECORD_AND_SAMPLED
          ? TraceFlags.SAMPLED
          : TraceFlags.NONE,
      ...(traceState === undefined ? {} : { traceState }),
    });
  }

  startActiveSpan<F extends (span: Span) => unknown>(name: string, fn: F): ReturnType<F>;
  startActiveSpan<F extends (span: Span) => unknown>(
    name: string,
    options: SpanOptions,
    fn: F,
  ): ReturnType<F>;
  startActiveSpan<F extends (span: Span) => unknown>(
    name: string,
    options: SpanOptions,
    ctx: Context,
    fn: F,
  ): ReturnType<F>;
  startActiveSpan<F extends (span: Span) => unknown>(
    name: string,
    ...rest: [F] | [SpanOptions, F] | [SpanOptions, Context, F]
  ): ReturnType<F> {
    const [options, ctx, fn] =
      rest.length === 1
        ? [{}, context.active(), rest[0]]
        : rest.length === 2
          ? [rest[0], context.active(), rest[1]]
          : rest;
    // A context passed as undefined means the active one, as in the SDK.
    const parent = (ctx as Context | undefined) ?? context.active();
    const span = this.startSpan(name, options, parent);
    const run: (active: Span) => ReturnType<F> = (active) => fn(active) as ReturnType<F>;
    return context.with(trace.setSpan(parent, span), run, undefined, span);
  }
}
