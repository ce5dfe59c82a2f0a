// The policy kinds a store knows unless told otherwise: fault injection, route rules, and the
// kinds other parts of issue 23 fill in (retry, bulkhead, rateLimit, breaker), reserved so that
// their keys are part of the rule schema from the start.
import type { MeterProvider } from "@opentelemetry/api";
import { faultPolicy } from "./fault.js";
import { routePolicy } from "./route.js";
import type { GovernanceIssues, GovernancePolicy, GovernanceSide } from "./policy.js";

/** Options of {@link defaultPolicies}. */
export interface DefaultPoliciesOptions {
  /** Where the policies count their events. Default: the global provider. */
  meterProvider?: MeterProvider | undefined;
}

/**
 * A kind whose implementation is not part of this build: its key is accepted in rules (as a
 * map, contents unchecked) and does nothing. Replace it by passing the real policy with the
 * same name in `policies`.
 */
export function reservedPolicy(
  name: string,
  sides: readonly GovernanceSide[],
  order: number,
): GovernancePolicy<Readonly<Record<string, unknown>>> {
  return {
    name,
    sides,
    order,
    compile(raw: unknown, issues: GovernanceIssues) {
      if (typeof raw === "object" && raw !== null && !Array.isArray(raw)) {
        return raw as Record<string, unknown>;
      }
      issues.report([], "expected a map");
      return undefined;
    },
    create: () => ({ middleware: (next) => next }),
  };
}

/**
 * The default kinds: `fault` ({@link faultPolicy}), `route` ({@link routePolicy}, client, order
 * 400) and the reserved `rateLimit` (server, order 100), `bulkhead` (server, 200), `breaker`
 * (server, 300) and `retry` (client, 500).
 */
export function defaultPolicies(options: DefaultPoliciesOptions = {}): GovernancePolicy[] {
  return [
    reservedPolicy("rateLimit", ["server"], 100),
    reservedPolicy("bulkhead", ["server"], 200),
    reservedPolicy("breaker", ["server"], 300),
    routePolicy({ meterProvider: options.meterProvider }),
    reservedPolicy("retry", ["client"], 500),
    faultPolicy({ meterProvider: options.meterProvider }),
  ];
}

/**
 * `base` with the kinds of `policies` put in place of those with the same name (or added): how
 * the real retry, bulkhead, rateLimit and breaker policies replace the reserved ones.
 */
export function withPolicies(
  base: readonly GovernancePolicy[],
  ...policies: GovernancePolicy[]
): GovernancePolicy[] {
  const names = new Set(policies.map((p) => p.name));
  return [...base.filter((p) => !names.has(p.name)), ...policies];
}
