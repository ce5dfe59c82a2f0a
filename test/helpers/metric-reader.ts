// A metric reader that collects on demand, and the sum of a counter's points, for the tests
// that check which counters the middleware moved.
import { MeterProvider, MetricReader } from "@opentelemetry/sdk-metrics";
import type { Attributes } from "@opentelemetry/api";

class CollectingReader extends MetricReader {
  protected onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/** A meter provider and a way to read the sum of a counter (or count of a histogram). */
export interface TestMeters {
  readonly meterProvider: MeterProvider;
  /** The sum of `name`'s points whose attributes include `labels`; 0 when there is none. */
  value(name: string, labels?: Attributes): Promise<number>;
}

/** Creates a meter provider whose points the test reads with `value`. */
export function testMeters(): TestMeters {
  const reader = new CollectingReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  return {
    meterProvider,
    async value(name, labels = {}) {
      const { resourceMetrics } = await reader.collect();
      let sum = 0;
      for (const scope of resourceMetrics.scopeMetrics) {
        for (const metric of scope.metrics) {
          if (metric.descriptor.name !== name) continue;
          for (const point of metric.dataPoints) {
            const matches = Object.entries(labels).every(([k, v]) => point.attributes[k] === v);
            if (!matches) continue;
            const v: unknown = point.value;
            sum += typeof v === "number" ? v : (v as { count: number }).count;
          }
        }
      }
      return sum;
    },
  };
}
