// The immutable snapshot the middleware reads: the rules of one applied update with their
// policy instances, and per side and operation the rules that may govern it (cached, so a call
// with no rule for its operation costs one map lookup).
import type { Header } from "../transport/header.js";
import type { RuleMatch } from "./match.js";
import type { GovernancePolicy, GovernanceSide, PolicyInstance } from "./policy.js";

/** A policy instance as a rule of a snapshot holds it. */
export interface BoundPolicy {
  readonly policy: GovernancePolicy;
  readonly instance: PolicyInstance;
  /** Unique within the store: keys the cached compositions. */
  readonly id: number;
}

/** A rule of a snapshot. */
export interface BoundRule {
  readonly name: string;
  readonly match: RuleMatch;
  readonly policies: readonly BoundPolicy[];
}

/**
 * What governs calls of one side and operation: the candidate rules and, when none of them
 * looks at headers, the policies chosen once for all calls.
 */
export interface OperationPlan {
  readonly rules: readonly BoundRule[];
  readonly fixed: readonly BoundPolicy[] | undefined;
}

const nothing: OperationPlan = { rules: [], fixed: [] };

/** One applied rule set; never changes once built. */
export class RuleSet {
  /** The rules in precedence order (the order of the config list). */
  readonly rules: readonly BoundRule[];
  /** True when there are no rules: the middleware goes straight to the next handler. */
  readonly empty: boolean;
  /** Counts applied updates of the store (0: the initial one). */
  readonly version: number;
  readonly #plans: Record<GovernanceSide, Map<string, OperationPlan>> = {
    server: new Map(),
    client: new Map(),
  };

  constructor(rules: readonly BoundRule[], version: number) {
    this.rules = rules;
    this.empty = rules.length === 0;
    this.version = version;
  }

  /** The plan of calls of `side` to `operation`. */
  plan(side: GovernanceSide, operation: string): OperationPlan {
    const plans = this.#plans[side];
    let plan = plans.get(operation);
    if (plan !== undefined) return plan;
    const rules = this.rules.filter(
      (r) => r.match.sides.includes(side) && r.match.operation(operation),
    );
    plan =
      rules.length === 0
        ? nothing
        : {
            rules,
            fixed: rules.some((r) => r.match.hasHeaders)
              ? undefined
              : choose(rules, side, undefined),
          };
    // Operations come from registered routes or generated clients: a bounded set. A client that
    // calls with ever new names would grow this, so it stops caching past a limit.
    if (plans.size < 10_000) plans.set(operation, plan);
    return plan;
  }

  /** The policies that govern a call: per kind, the first matching rule's; outermost first. */
  policiesFor(plan: OperationPlan, side: GovernanceSide, header: Header): readonly BoundPolicy[] {
    return plan.fixed ?? choose(plan.rules, side, header);
  }
}

function choose(
  rules: readonly BoundRule[],
  side: GovernanceSide,
  header: Header | undefined,
): BoundPolicy[] {
  const chosen: BoundPolicy[] = [];
  const kinds = new Set<string>();
  for (const rule of rules) {
    if (header !== undefined && rule.match.hasHeaders && !rule.match.headers(header)) continue;
    for (const bound of rule.policies) {
      const kind = bound.policy.name;
      if (kinds.has(kind) || !bound.policy.sides.includes(side)) continue;
      kinds.add(kind);
      chosen.push(bound);
    }
  }
  return chosen.sort((a, b) => a.policy.order - b.policy.order);
}
