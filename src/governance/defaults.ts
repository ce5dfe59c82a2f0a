// The policy kinds a store knows unless told otherwise: rate limits, bulkheads, server
// breakers, route rules, retries and fault injection.
import type { MeterProvider } from "@opentelemetry/api";
import { breakerPolicy } from "./breaker-policy.js";
import { bulkheadPolicy } from "./bulkhead-policy.js";
import { faultPolicy } from "./fault.js";
import { routePolicy } from "./route.js";
import type { GovernanceIssues, GovernancePolicy, GovernanceSide } from "./policy.js";
import { rateLimitPolicy } from "./rate-limit-policy.js";
import type { RateLimitPolicyOptions } from "./rate-limit-policy.js";
import { retryPolicy } from "./retry-policy.js";

/** Options of {@link defaultPolicies}. */
export interface DefaultPoliciesOptions {
  /** Where the policies count their events. Default: the global provider. */
  meterProvider?: MeterProvider | undefined;
  /**
   * The Redis client of rate limits with `redis: true` (`createRedisClient` from
   * `kratos-ts/ratelimit/redis`); without it such rules are refused. The app closes it after
   * the store.
   */
  redis?: RateLimitPolicyOptions["redis"];
  /** How long a rate limit waits for Redis before its local fallback answers, in ms. Default 100. */
  redisTimeout?: number | undefined;
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
 * The default kinds, new objects on each call (a bulkhead policy keeps compartments per rule
 * name: give each store its own): {@link rateLimitPolicy} (server, order 100),
 * {@link bulkheadPolicy} (server, 200), {@link breakerPolicy} (server, 300),
 * {@link routePolicy} (client, 400), {@link retryPolicy} (client, 500) and
 * {@link faultPolicy} (both, 600).
 */
export function defaultPolicies(options: DefaultPoliciesOptions = {}): GovernancePolicy[] {
  const { meterProvider } = options;
  return [
    rateLimitPolicy({ meterProvider, redis: options.redis, redisTimeout: options.redisTimeout }),
    bulkheadPolicy({ meterProvider }),
    breakerPolicy({ meterProvider }),
    routePolicy({ meterProvider }),
    retryPolicy({ meterProvider }),
    faultPolicy({ meterProvider }),
  ];
}

/**
 * `base` with the kinds of `policies` put in place of those with the same name (or added): how
 * a policy with other options replaces a default one
 * (`withPolicies(defaultPolicies(), retryPolicy({ sleep }))`).
 */
export function withPolicies(
  base: readonly GovernancePolicy[],
  ...policies: GovernancePolicy[]
): GovernancePolicy[] {
  const names = new Set(policies.map((p) => p.name));
  return [...base.filter((p) => !names.has(p.name)), ...policies];
}
