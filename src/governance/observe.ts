// Governance events in the metrics and on the span: one counter per event kind with the rule's
// name, and a span event on the call's active span. Shared by every policy kind.
import { metrics as otelMetrics, trace } from "@opentelemetry/api";
import type { Counter, MeterProvider } from "@opentelemetry/api";
import type { Context } from "../context.js";
import { requestMetricsScope } from "../internal/request-metrics.js";
import { clientTransport, serverTransport } from "../transport/transport.js";
import type { GovernanceSide } from "./policy.js";

/** Options of {@link createGovernanceCounter}. */
export interface GovernanceCounterOptions {
  /** The metric name, e.g. `governance_faults_total`. */
  name: string;
  description: string;
  /** Default: the global provider (set by the OpenTelemetry SDK; a no-op without one). */
  meterProvider?: MeterProvider | undefined;
}

/** Counts one governance event of a call: `{side, operation, rule, <label>: value}`. */
export type GovernanceCounter = (
  ctx: Context,
  rule: string,
  labels: Record<string, string>,
) => void;

/** The side of the call `ctx` belongs to: a client context carries a client transport. */
export function sideOf(ctx: Context): GovernanceSide {
  return clientTransport(ctx) !== undefined ? "client" : "server";
}

/**
 * A counter of governance events (injected faults, rejections, retries), labelled with the
 * side, the operation and the rule. The instrument follows the provider in use, as the metrics
 * middleware's do (a counter made before the SDK started still reaches its exporter).
 */
export function createGovernanceCounter(options: GovernanceCounterOptions): GovernanceCounter {
  let provider: MeterProvider | undefined;
  let counter: Counter | undefined;
  return (ctx, rule, labels) => {
    const current = options.meterProvider ?? otelMetrics.getMeterProvider();
    if (current !== provider || counter === undefined) {
      const scope = requestMetricsScope();
      counter = current
        .getMeter(scope.name, scope.version)
        .createCounter(options.name, { description: options.description });
      provider = current;
    }
    const side = sideOf(ctx);
    const transport = side === "client" ? clientTransport(ctx) : serverTransport(ctx);
    counter.add(1, { side, operation: transport?.operation ?? "", rule, ...labels });
  };
}

/** Marks the active span (if any) with a governance event: `governance.<name>` and the rule. */
export function markSpan(
  name: string,
  rule: string,
  attributes: Record<string, string | number>,
): void {
  trace.getActiveSpan()?.addEvent(`governance.${name}`, { "governance.rule": rule, ...attributes });
}
