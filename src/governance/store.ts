// The live store: the current compiled rule set behind one reference. An update is checked
// whole and swapped in at once, or refused with one warning; a call reads the reference once,
// when it starts, and runs under that snapshot to its end.
import { ConfigError } from "../config/source.js";
import { discardLogger } from "../log/logger.js";
import type { Logger } from "../log/logger.js";
import { compileRuleSet } from "./compile.js";
import { defaultPolicies } from "./defaults.js";
import type { GovernancePolicy, PolicyInstance } from "./policy.js";
import { RuleSet } from "./rule-set.js";
import type { BoundPolicy, BoundRule } from "./rule-set.js";

/** A rule set that cannot apply: every problem, one line each; the message is the first. */
export class GovernanceError extends ConfigError {
  override name = "GovernanceError";
  /** Every problem: `<source>: <key>: <what> (rule "<name>")`. */
  readonly errors: readonly string[];

  constructor(errors: readonly string[]) {
    const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : "";
    super(`${errors[0] ?? "bad governance rules"}${more}`);
    this.errors = errors;
  }
}

/** Where a candidate rule set came from, for messages. */
export interface GovernanceSourceInfo {
  /** The file or source that set a dotted key (`config.value(key).origin` does this). */
  origin?: ((key: string) => string | undefined) | undefined;
}

/** Options of {@link createGovernanceStore}; every field is optional. */
export interface GovernanceStoreOptions extends GovernanceSourceInfo {
  /** The initial rule set (the `governance` section as plain data); a bad one throws. Default none. */
  rules?: unknown;
  /** The policy kinds rules may carry. Default {@link defaultPolicies} (no Redis). */
  policies?: readonly GovernancePolicy[];
  /**
   * The operations the server serves (`/pkg.Svc/Method`): a rule that may run on the server and
   * names another operation, prefix or service is refused. Default: not checked.
   */
  operations?: Iterable<string>;
  /** The dotted key of the section, named in messages. Default `governance`. */
  path?: string;
  /** Where refused updates are reported. Default: nowhere. */
  logger?: Logger;
  /** A uniform random number in [0, 1) for percentages. Default `Math.random`; seed one for tests. */
  random?: () => number;
}

/** The current rules of a process, changed live. */
export interface GovernanceStore {
  /** The snapshot calls start under; read it once per call. */
  readonly current: RuleSet;
  /** The problems of `candidate`, one line each (empty when it would apply); changes nothing. */
  check(candidate: unknown, source?: GovernanceSourceInfo): readonly string[];
  /**
   * Applies `candidate` when it is good as a whole: swaps the snapshot and returns true.
   * Otherwise keeps the current rules, logs one warning naming the key and the problems, and
   * returns false.
   */
  update(candidate: unknown, source?: GovernanceSourceInfo): boolean;
  /** Closes the policy instances; the store keeps serving its last rules. */
  close(): Promise<void>;
}

/**
 * Creates a store; throws a {@link GovernanceError} (one line naming the source, key and rule)
 * when `options.rules` is bad, so a service refuses to start on it.
 */
export function createGovernanceStore(options: GovernanceStoreOptions = {}): GovernanceStore {
  return new Store(options);
}

class Store implements GovernanceStore {
  readonly #options: GovernanceStoreOptions;
  readonly #policies: readonly GovernancePolicy[];
  readonly #operations: ReadonlySet<string> | undefined;
  readonly #log: Logger;
  readonly #random: () => number;
  #instances = new Map<string, BoundPolicy>();
  #nextId = 1;
  #current: RuleSet;

  constructor(options: GovernanceStoreOptions) {
    this.#options = options;
    this.#policies = options.policies ?? defaultPolicies();
    this.#operations = options.operations === undefined ? undefined : new Set(options.operations);
    this.#log = options.logger ?? discardLogger;
    this.#random = options.random ?? Math.random;
    this.#current = new RuleSet([], 0);
    const errors = this.#apply(options.rules, options);
    if (errors.length > 0) throw new GovernanceError(errors);
  }

  get current(): RuleSet {
    return this.#current;
  }

  check(candidate: unknown, source: GovernanceSourceInfo = {}): readonly string[] {
    const result = compileRuleSet(candidate, this.#compileOptions(source));
    return result.ok ? [] : result.errors;
  }

  update(candidate: unknown, source: GovernanceSourceInfo = {}): boolean {
    const errors = this.#apply(candidate, source);
    const key = this.#options.path ?? "governance";
    if (errors.length === 0) {
      const rules = this.#current.rules.map((r) => r.name);
      this.#log.info({ key, rules, version: this.#current.version }, "governance rules applied");
      return true;
    }
    const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : "";
    this.#log.warn(
      { key, file: (source.origin ?? this.#options.origin)?.(key), errors },
      `governance rules refused, keeping the last good ones: ${errors[0] ?? ""}${more}`,
    );
    return false;
  }

  async close(): Promise<void> {
    const instances = [...this.#instances.values()];
    this.#instances = new Map();
    await Promise.all(instances.map((b) => Promise.resolve(b.instance.close?.())));
  }

  #compileOptions(source: GovernanceSourceInfo) {
    return {
      policies: this.#policies,
      operations: this.#operations,
      path: this.#options.path,
      origin: source.origin ?? this.#options.origin,
    };
  }

  #apply(candidate: unknown, source: GovernanceSourceInfo): readonly string[] {
    const result = compileRuleSet(candidate, this.#compileOptions(source));
    if (!result.ok) return result.errors;
    // A rule whose name and settings did not change keeps its instance: a bulkhead keeps its
    // queue, a limiter its counters, across an edit of another rule.
    const kept = new Map<string, BoundPolicy>();
    let rules: BoundRule[];
    try {
      rules = result.rules.map((rule) => ({
        name: rule.name,
        match: rule.match,
        policies: rule.policies.map((p) => {
          let bound = kept.get(p.identity) ?? this.#instances.get(p.identity);
          if (bound === undefined) {
            const instance: PolicyInstance = p.policy.create(p.spec, {
              rule: rule.name,
              random: this.#random,
              logger: this.#log,
            });
            bound = { policy: p.policy, instance, id: this.#nextId++ };
          }
          kept.set(p.identity, bound);
          return bound;
        }),
      }));
    } catch (err) {
      // A policy that cannot build its instance refuses the update like a bad value does.
      const fresh = [...kept.entries()].filter(([id]) => !this.#instances.has(id));
      for (const [, b] of fresh) void Promise.resolve(b.instance.close?.()).catch(() => undefined);
      return [
        `${this.#options.path ?? "governance"}: ${err instanceof Error ? err.message : String(err)}`,
      ];
    }
    const dropped = [...this.#instances.entries()].filter(([id]) => !kept.has(id));
    this.#instances = kept;
    this.#current = new RuleSet(rules, this.#current.version + 1);
    // Calls in flight may still run through a dropped instance: its close must let them finish.
    for (const [, b] of dropped) {
      void Promise.resolve(b.instance.close?.()).catch((err: unknown) => {
        this.#log.warn({ err: String(err) }, "governance: closing a policy failed");
      });
    }
    return [];
  }
}
