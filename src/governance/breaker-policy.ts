// The `breaker` policy kind: a rule's SRE breaker settings drive `circuitBreaker.server`
// (go-zero's breakerhandler): an operation that keeps failing has a growing share of its calls
// answered 503 CIRCUITBREAKER before the handler runs.
import type { MeterProvider } from "@opentelemetry/api";
import { circuitBreaker } from "../middleware/circuitbreaker.js";
import type { CircuitBreakerServerOptions } from "../middleware/circuitbreaker.js";
import { check, readChoice, readNumber } from "./checks.js";
import { readDuration, readMap } from "./fields.js";
import type { GovernanceIssues, GovernancePolicy } from "./policy.js";

/** The checked `breaker` of a rule: {@link CircuitBreakerServerOptions} without the name. */
export type BreakerSpec = Readonly<Omit<CircuitBreakerServerOptions, "name">>;

/** Options of {@link breakerPolicy}. */
export interface BreakerPolicyOptions {
  /** Where rejections are counted. Default: the global provider. */
  meterProvider?: MeterProvider | undefined;
  /** The breakers' clock in ms. Default `performance.now`; tests inject one. */
  now?: (() => number) | undefined;
}

/**
 * The `breaker` policy kind, server side (order 300): `{ k (>= 1, default 1.5), window (default
 * 10s), buckets (default 10), min_requests (default 100), scope: operation | rule }`. The
 * breakers draw from the store's random numbers. A rule's breakers (their history of
 * successes and failures) live in its instance: an edit of the rule starts them afresh.
 */
export function breakerPolicy(options: BreakerPolicyOptions = {}): GovernancePolicy<BreakerSpec> {
  return {
    name: "breaker",
    sides: ["server"],
    order: 300,
    compile: compileBreaker,
    create(spec, { rule, random }) {
      const middleware = circuitBreaker.server(
        { ...spec, name: rule },
        {
          random,
          ...(options.now === undefined ? {} : { now: options.now }),
          ...(options.meterProvider === undefined ? {} : { meterProvider: options.meterProvider }),
        },
      );
      return { middleware };
    },
  };
}

function compileBreaker(raw: unknown, issues: GovernanceIssues): BreakerSpec | undefined {
  const fields = readMap(raw, issues, [], ["k", "window", "buckets", "minRequests", "scope"]);
  if (fields === undefined) return undefined;
  const k = readNumber(fields["k"], issues, ["k"], { min: 1 });
  let window: number | undefined;
  if (fields["window"] !== undefined) {
    window = readDuration(fields["window"], issues, ["window"]);
    if (window === 0) {
      issues.report(["window"], "must be above 0");
      window = undefined;
    }
  }
  const buckets = readNumber(fields["buckets"], issues, ["buckets"], { min: 1, integer: true });
  const minRequests = readNumber(fields["minRequests"], issues, ["minRequests"], {
    min: 0,
    integer: true,
  });
  const scope = readChoice(fields["scope"], issues, ["scope"], ["operation", "rule"]);
  const read = { k, window, buckets, minRequests, scope };
  for (const [key, value] of Object.entries(read)) {
    if (value === undefined && fields[key] !== undefined) return undefined;
  }
  const spec: CircuitBreakerServerOptions = {};
  if (k !== undefined) spec.k = k;
  if (window !== undefined) spec.window = window;
  if (buckets !== undefined) spec.buckets = buckets;
  if (minRequests !== undefined) spec.minRequests = minRequests;
  if (scope !== undefined) spec.scope = scope;
  // The middleware's own check, for anything the readers above let through.
  return check(issues, [], () => circuitBreaker.server(spec)) ? spec : undefined;
}
