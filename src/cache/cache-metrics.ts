// The cache's counters, through the OpenTelemetry meter of the provider in use (the global one
// by default, which startTelemetry sets and /metrics reads). A hit must cost next to nothing
// beside its Redis round trip, so events only add to plain numbers here and observable
// counters report them when the metrics are collected (a synchronous counter's add hashes its
// attributes on every call). The instruments are registered again when the provider changes,
// as the kit's other instruments are.
import { metrics as otelMetrics } from "@opentelemetry/api";
import type { Attributes, MeterProvider, ObservableResult } from "@opentelemetry/api";
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
  /** Stops reporting: the callbacks leave the provider, so a closed cache is not kept alive. */
  close(): void;
}

interface Count {
  readonly attributes: Attributes;
  n: number;
}

/** The metrics of the cache named `cache`; `provider` defaults to the global one, read per event. */
export function cacheMetrics(cache: string, provider?: MeterProvider): CacheMetrics {
  const counts = new Map<CacheCounter, Map<string, Count>>();
  const countOf = (which: CacheCounter, label?: [string, string]): Count => {
    let byLabel = counts.get(which);
    if (byLabel === undefined) {
      byLabel = new Map();
      counts.set(which, byLabel);
    }
    const id = label === undefined ? "" : label[1];
    let count = byLabel.get(id);
    if (count === undefined) {
      count = {
        attributes: label === undefined ? { cache } : { cache, [label[0]]: label[1] },
        n: 0,
      };
      byLabel.set(id, count);
    }
    return count;
  };
  const hits = countOf("hit");
  const misses = countOf("miss");
  let current: MeterProvider | undefined;
  let closed = false;
  const registered: (() => void)[] = [];
  // Registers the observable counters with the provider in use, once per provider.
  const observed = () => {
    const p = provider ?? otelMetrics.getMeterProvider();
    if (p === current || closed) return;
    current = p;
    const scope = requestMetricsScope();
    const meter = p.getMeter(scope.name, scope.version);
    for (const which of Object.keys(cacheCounters) as CacheCounter[]) {
      const spec = cacheCounters[which];
      const instrument = meter.createObservableCounter(spec.name, {
        description: spec.description,
      });
      const callback = (result: ObservableResult) => {
        for (const count of counts.get(which)?.values() ?? []) {
          result.observe(count.n, count.attributes);
        }
      };
      instrument.addCallback(callback);
      registered.push(() => {
        instrument.removeCallback(callback);
      });
    }
  };
  observed();
  return {
    hit: () => {
      observed();
      hits.n++;
    },
    miss: () => {
      observed();
      misses.n++;
    },
    load: (outcome) => {
      observed();
      countOf("load", ["outcome", outcome]).n++;
    },
    error: (op) => {
      observed();
      countOf("error", ["op", op]).n++;
    },
    close: () => {
      closed = true;
      for (const remove of registered.splice(0)) remove();
    },
  };
}
