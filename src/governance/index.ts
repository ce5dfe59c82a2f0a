/**
 * Governance: rules in config, applied by middleware and changed live (issue 23).
 *
 * A `governance` section holds a list of named rules. Each rule has a `match` (side, service,
 * operations, regex, headers) and policies, one per kind: `rateLimit` (local or on Redis),
 * `bulkhead`, `breaker` on servers, `route` and `retry` on clients, `fault` on both. Pass a
 * Redis client for shared rate limits with `defaultPolicies({ redis })`.
 * {@link createGovernanceStore} checks a whole rule set and keeps it as an immutable
 * {@link RuleSet}; {@link followGovernance} keeps a store in step with a `Config`;
 * {@link governance}`.server` / `.client` apply it to calls.
 *
 * Plugging in a policy kind: implement {@link GovernancePolicy} (a `name`, the `sides` it runs
 * on, an `order`, `compile` to check and compile its settings, `create` to build a middleware
 * per rule) and pass it in `policies`, e.g. `withPolicies(defaultPolicies(), myPolicy())`.
 * For each kind, the first matching rule (in list order) that carries it governs the call; the
 * chosen kinds run in `order`, lower outer.
 *
 * @module
 */
export { governance } from "./middleware.js";
export type { GovernanceOptions } from "./middleware.js";
export { createGovernanceStore, GovernanceError } from "./store.js";
export type { GovernanceSourceInfo, GovernanceStore, GovernanceStoreOptions } from "./store.js";
export { followGovernance } from "./follow.js";
export type { FollowedGovernance, FollowGovernanceOptions } from "./follow.js";
export { RuleSet } from "./rule-set.js";
export type { BoundPolicy, BoundRule, OperationPlan } from "./rule-set.js";
export type { RuleMatch } from "./match.js";
export { defaultPolicies, reservedPolicy, withPolicies } from "./defaults.js";
export type { DefaultPoliciesOptions } from "./defaults.js";
export { faultPolicy } from "./fault.js";
export type { FaultPolicyOptions, FaultSpec } from "./fault.js";
export { retryPolicy } from "./retry-policy.js";
export type { RetryPolicyOptions, RetrySpec } from "./retry-policy.js";
export { bulkheadPolicy } from "./bulkhead-policy.js";
export type { BulkheadPolicyOptions, BulkheadSpec } from "./bulkhead-policy.js";
export { breakerPolicy } from "./breaker-policy.js";
export type { BreakerPolicyOptions, BreakerSpec } from "./breaker-policy.js";
export { rateLimitPolicy } from "./rate-limit-policy.js";
export type { RateLimitKey, RateLimitPolicyOptions, RateLimitSpec } from "./rate-limit-policy.js";
export { chooseDestination, routePolicy } from "./route.js";
export type { RouteDestination, RoutePolicyOptions, RouteSpec } from "./route.js";
export type {
  GovernanceIssues,
  GovernancePolicy,
  GovernanceSide,
  PolicyContext,
  PolicyInstance,
} from "./policy.js";
export {
  camelKey,
  readDuration,
  readMap,
  readPercentage,
  readRegex,
  readString,
} from "./fields.js";
export type { FieldPath } from "./fields.js";
export { check, readBoolean, readChoice, readNumber } from "./checks.js";
export type { NumberBounds } from "./checks.js";
export { createGovernanceCounter, markSpan, sideOf } from "./observe.js";
export type { GovernanceCounter, GovernanceCounterOptions } from "./observe.js";
export { seededRandom } from "./random.js";
