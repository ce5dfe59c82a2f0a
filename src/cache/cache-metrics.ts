// The cache's counters, through the OpenTelemetry meter of the provider in use (the global one
// by default, which startTelemetry sets and /metrics reads), made lazily and again when the
// provider changes, as the kit's other instruments are.
import { metrics as otelMetrics } from "@opentelemetry/api";
import type { Attributes, Counter, MeterProvider } from "@opentelemetry/api";
import { requestMetricsScope } from "../internal/request-metrics.js";

/** The counters, by what they count. Every one has the label `cache` (the cache's name). */
export const cacheCounters = {
  /** A value (or a not-found placeholder) read from Redis. */
  hit: { name: "cache_hits_total", description: "Cache reads answered from Redis" },
  /** A read that found nothing in Redis, or skipped Redis while it was unreachable. */
  miss: { name: "cache_misses_total", description: "Cache reads not answered from Redis" },
  /** A run of a loader (label `outcome`: `ok`, `not_found` or `error`). */
  load: { name: "cache_loads_total", description: "Loader runs after a cache miss" },
  /** A failed Redis call (label `op`: `get`, `set` or `del`); the call fell back to the loader. */
  error: { name: "cache_errors_total", description: "Redis calls of the cache that failed" },
} as const;

/** Which counter. */
export type CacheCounter = keyof typeof cacheCounters;

/** Counts the events of one cache. */
export interface CacheMetrics {
  hit(): void;
  miss(): void;
  load(outcome: "ok" | "not_found" | "error"): void;
  error(op: "get" | "set" | "del"): void;
}

/** The metrics of the cache named `cache`; `provider` defaults to the global one, read per event. */
export function cacheMetrics(cache: string, provider?: MeterProvider): CacheMetrics {
  let current: MeterProvider | undefined;
  const counters = new Map<CacheCounter, Counter>();
  // Built once: a hit costs one lookup and one add, next to a Redis round trip.
  const plain: Attributes = { cache };
  const labelled = new Map<string, Attributes>();
  const counter = (which: CacheCounter): Counter => {
    const p = provider ?? otelMetrics.getMeterProvider();
    if (p !== current) {
      current = p;
      counters.clear();
    }
    let c = counters.get(which);
    if (c === undefined) {
      const scope = requestMetricsScope();
      const spec = cacheCounters[which];
      c = p.getMeter(scope.name, scope.version).createCounter(spec.name, {
        description: spec.description,
      });
      counters.set(which, c);
    }
    return c;
  };
  const attributes = (key: string, value: string): Attributes => {
    const id = `${key}=${value}`;
    let a = labelled.get(id);
    if (a === undefined) {
      a = { cache, [key]: value };
      labelled.set(id, a);
    }
    return a;
  };
  return {
    hit: () => {
      counter("hit").add(1, plain);
    },
    miss: () => {
      counter("miss").add(1, plain);
    },
    load: (outcome) => {
      counter("load").add(1, attributes("outcome", outcome));
    },
    error: (op) => {
      counter("error").add(1, attributes("op", op));
    },
  };
}
