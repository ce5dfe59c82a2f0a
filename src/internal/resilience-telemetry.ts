// Counters and span events of the resilience middleware (retry, bulkhead, breakers, rate
// limits). They move only on the rare path (a retry, a rejection, a queued call), so they go through the
// OpenTelemetry instruments of the provider in use, made lazily and again when it changes (a
// middleware built before the SDK started records into the SDK's provider once it runs).
import { metrics as otelMetrics, trace } from "@opentelemetry/api";
import type { Attributes, Counter, Histogram, Meter, MeterProvider } from "@opentelemetry/api";
import { latencyBuckets, requestMetricsScope } from "./request-metrics.js";

/** The counters, by what they count. Every one has the labels `operation` and `rule`. */
export const resilienceCounters = {
  /** A client call sent again (the retry middleware). */
  retry: {
    name: "client_retries_total",
    description: "Client calls sent again by the retry middleware",
  },
  /** A retry refused because the retry budget was spent. */
  retryBudgetExhausted: {
    name: "client_retry_budget_exhausted_total",
    description: "Retries refused because the retry budget was spent",
  },
  /** A call the bulkhead answered 429 (label `cause`: `full` or `wait`). */
  bulkheadRejected: {
    name: "server_bulkhead_rejected_total",
    description: "Calls the bulkhead rejected, full (no queue room) or after the longest wait",
  },
  /** A call that waited in a bulkhead's queue. */
  bulkheadQueued: {
    name: "server_bulkhead_queued_total",
    description: "Calls that waited in a bulkhead queue",
  },
  /** A call the server circuit breaker rejected. */
  breakerRejected: {
    name: "server_breaker_rejected_total",
    description: "Calls the server circuit breaker rejected",
  },
  /** A call the client circuit breaker rejected before sending it. */
  clientBreakerRejected: {
    name: "client_breaker_rejected_total",
    description: "Calls the client circuit breaker rejected",
  },
  /** A call a server's rate limit (the quota middleware) answered 429 RATE_LIMITED. */
  rateLimited: {
    name: "server_rate_limited_total",
    description: "Calls a rate limit rejected on the server",
  },
  /** A call a client's rate limit refused before sending it. */
  clientRateLimited: {
    name: "client_rate_limited_total",
    description: "Calls a rate limit refused on the client",
  },
} as const;

/** The histogram of the time calls spent in a bulkhead queue, admitted or not. */
export const bulkheadQueueSeconds = {
  name: "server_bulkhead_queue_seconds",
  description: "Time calls waited in a bulkhead queue (sec)",
};

/** Which counter. */
export type ResilienceCounter = keyof typeof resilienceCounters;

/** Records the resilience events of one middleware. */
export interface ResilienceTelemetry {
  /** Adds 1 to `counter` and, when a span is active, marks it with `event`. */
  count(
    counter: ResilienceCounter,
    operation: string,
    event: string,
    attributes?: Attributes,
  ): void;
  /** Records a wait in a bulkhead queue, in ms. */
  queued(operation: string, waitedMs: number): void;
}

/**
 * The telemetry of a middleware instance whose rule is `rule` (empty when none was given);
 * `provider` defaults to the global meter provider, read on each event.
 */
export function resilienceTelemetry(rule: string, provider?: MeterProvider): ResilienceTelemetry {
  let current: MeterProvider | undefined;
  let meter: Meter | undefined;
  const counters = new Map<ResilienceCounter, Counter>();
  let waits: Histogram | undefined;
  const meterOf = (): Meter => {
    const p = provider ?? otelMetrics.getMeterProvider();
    if (p !== current || meter === undefined) {
      const scope = requestMetricsScope();
      current = p;
      meter = p.getMeter(scope.name, scope.version);
      counters.clear();
      waits = undefined;
    }
    return meter;
  };
  return {
    count(counter, operation, event, attributes = {}) {
      const m = meterOf();
      let instrument = counters.get(counter);
      if (instrument === undefined) {
        const spec = resilienceCounters[counter];
        instrument = m.createCounter(spec.name, { description: spec.description });
        counters.set(counter, instrument);
      }
      const labels: Attributes = { operation, rule };
      if (counter === "bulkheadRejected") labels.cause = attributes.cause;
      instrument.add(1, labels);
      trace.getActiveSpan()?.addEvent(event, rule === "" ? attributes : { ...attributes, rule });
    },
    queued(operation, waitedMs) {
      const m = meterOf();
      waits ??= m.createHistogram(bulkheadQueueSeconds.name, {
        description: bulkheadQueueSeconds.description,
        unit: "s",
        advice: { explicitBucketBoundaries: [...latencyBuckets] },
      });
      waits.record(waitedMs / 1000, { operation, rule });
    },
  };
}
