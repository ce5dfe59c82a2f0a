// The seam between the governance backbone and the policies it runs: what a policy kind tells
// the backbone (its key in a rule, where it runs, how to check and compile its settings) and
// what it hands back for each rule (a middleware). Fault injection is the first implementation;
// retries, bulkheads, rate limits, breakers and route rules plug in the same way.
import type { Logger } from "../log/logger.js";
import type { Middleware } from "../middleware/middleware.js";

/** Where a rule or policy runs: on calls a server handles, or on calls a client makes. */
export type GovernanceSide = "server" | "client";

/**
 * Collects the problems of a rule set. `path` is relative to the policy's own value
 * (`["abort", "percentage"]`); the backbone prefixes the rule's path and names the source, so
 * each problem becomes one line: `configs/config.yaml: governance.rules.0.fault.abort.percentage:
 * 120 is outside 0..100 (rule "beta-abort")`.
 */
export interface GovernanceIssues {
  /** Records one problem; validation goes on, so a rule set reports all of them at once. */
  report(path: readonly (string | number)[], message: string): void;
}

/** What a policy instance may use besides its spec. */
export interface PolicyContext {
  /** The rule's name: name it in metrics, span events and log lines. */
  readonly rule: string;
  /** A uniform random number in [0, 1): the store's (seedable) generator. */
  readonly random: () => number;
  /** The store's logger. */
  readonly logger: Logger;
}

/** The runtime part of one policy of one rule: built once, kept while its spec is unchanged. */
export interface PolicyInstance {
  /**
   * Runs the call under the policy: the backbone calls it with the rest of the chain as `next`
   * (the policies of inner kinds, then the service or the transport).
   */
  readonly middleware: Middleware;
  /** Releases what the instance holds (timers, connections) once no rule set uses it. */
  close?(): void | Promise<void>;
}

/**
 * A kind of policy that a rule may carry under the key {@link GovernancePolicy.name}. Register
 * it with the store (`createGovernanceStore({ policies: [...] })`); the backbone matches calls,
 * picks for each kind the first matching rule that carries it, and runs the instances of the
 * chosen kinds in {@link GovernancePolicy.order}.
 */
export interface GovernancePolicy<Spec = unknown> {
  /**
   * The key under a rule, camelCase (`fault`, `retry`, `rateLimit`); the config may spell it
   * snake_case too (`rate_limit`).
   */
  readonly name: string;
  /** Where it runs; a rule limited to another side with this kind is refused. */
  readonly sides: readonly GovernanceSide[];
  /**
   * Position in the call, lower is outer. The built-in kinds use rateLimit 100, bulkhead 200,
   * breaker 300, route 400, retry 500, fault 600: faults are innermost so that retries and
   * breakers see injected failures, as a resilience drill wants.
   */
  readonly order: number;
  /**
   * Checks the raw value found under the rule (plain YAML / JSON data) and turns it into the
   * spec; reports every problem through `issues` and returns undefined when there was one.
   * Pure: no I/O, no timers; the result is treated as immutable.
   */
  compile(raw: unknown, issues: GovernanceIssues): Spec | undefined;
  /**
   * Builds the runtime part for one rule. Called when a rule set is applied; a rule whose name
   * and raw value did not change keeps its instance (and so its counters and queues) across
   * updates.
   */
  create(spec: Spec, context: PolicyContext): PolicyInstance;
}
