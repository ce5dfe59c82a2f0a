// Checks a whole rule set (the `governance` section as plain data) and compiles it, collecting
// every problem as one line naming the source (file or etcd key), the key path and the rule.
import { describe } from "../config/value.js";
import { camelKey, readMap, readString } from "./fields.js";
import type { FieldPath } from "./fields.js";
import { compileMatch } from "./match.js";
import type { RuleMatch } from "./match.js";
import type { GovernanceIssues, GovernancePolicy, GovernanceSide } from "./policy.js";

/** One policy of a compiled rule, before the store builds its instance. */
export interface CompiledPolicy {
  readonly policy: GovernancePolicy;
  readonly spec: unknown;
  /** Identifies the instance across updates: the rule's name, the kind and the raw value. */
  readonly identity: string;
}

/** A checked rule. */
export interface CompiledRule {
  readonly name: string;
  readonly match: RuleMatch;
  readonly policies: readonly CompiledPolicy[];
}

/** Options of {@link compileRuleSet}. */
export interface CompileOptions {
  /** The policy kinds a rule may carry. */
  readonly policies: readonly GovernancePolicy[];
  /** The operations served, to refuse rules naming others; undefined: not checked. */
  readonly operations?: ReadonlySet<string> | undefined;
  /** The dotted key of the section in the config, for messages. Default `governance`. */
  readonly path?: string | undefined;
  /** The file or source that set a dotted key (`configs/config.yaml`, `etcd:/key`). */
  readonly origin?: ((key: string) => string | undefined) | undefined;
}

/** The outcome: the rules, or the problems (one line each) and no rules. */
export type CompileResult =
  | { readonly ok: true; readonly rules: readonly CompiledRule[] }
  | { readonly ok: false; readonly errors: readonly string[] };

/** Compiles `raw`, the value of the governance section (undefined or null: no rules). */
export function compileRuleSet(raw: unknown, options: CompileOptions): CompileResult {
  const base = options.path ?? "governance";
  const errors: string[] = [];
  let rule: string | undefined;
  const issues: GovernanceIssues = {
    report(path, message) {
      const key = [base, ...path].filter((p) => p !== "").join(".");
      const origin = options.origin?.(key);
      const where = origin === undefined ? key : `${origin}: ${key}`;
      errors.push(`${where}: ${message}${rule === undefined ? "" : ` (rule "${rule}")`}`);
    },
  };
  if (raw === undefined || raw === null) return { ok: true, rules: [] };
  const section = readMap(raw, issues, [], ["rules"]);
  const list = section?.["rules"];
  const rules: CompiledRule[] = [];
  if (list !== undefined && list !== null && !Array.isArray(list)) {
    issues.report(["rules"], `expected a list of rules, got ${describe(list)}`);
  } else if (Array.isArray(list)) {
    const names = new Map<string, number>();
    const kinds = new Map(options.policies.map((p) => [p.name, p]));
    const known = ["name", "match", ...kinds.keys()];
    list.forEach((item: unknown, i) => {
      // Named before its fields are read, so that every problem of the rule names it.
      const named =
        typeof item === "object" && item !== null ? (item as { name?: unknown }).name : undefined;
      rule = typeof named === "string" && named !== "" ? named : undefined;
      const path: FieldPath = ["rules", i];
      const fields = readMap(item, issues, path, known);
      if (fields === undefined) return;
      const name = readString(fields["name"], issues, [...path, "name"], true);
      if (name !== undefined) {
        rule = name;
        const first = names.get(name);
        if (first !== undefined) {
          issues.report([...path, "name"], `duplicate rule name (also rules.${first})`);
        }
        names.set(name, i);
      }
      const compiled = compileRule(fields, kinds, issues, path, options.operations);
      if (compiled !== undefined && name !== undefined) rules.push({ name, ...compiled });
    });
    rule = undefined;
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, rules };
}

function compileRule(
  fields: Record<string, unknown>,
  kinds: ReadonlyMap<string, GovernancePolicy>,
  issues: GovernanceIssues,
  path: FieldPath,
  operations: ReadonlySet<string> | undefined,
): Omit<CompiledRule, "name"> | undefined {
  const match = compileMatch(fields["match"], issues, [...path, "match"], operations);
  const policies: CompiledPolicy[] = [];
  let ok = match !== undefined;
  const name = String(fields["name"]);
  for (const [key, value] of Object.entries(fields)) {
    const policy = kinds.get(camelKey(key));
    if (policy === undefined) continue;
    const at = [...path, key];
    if (match !== undefined && !match.sides.some((s) => policy.sides.includes(s))) {
      issues.report(
        at,
        `${key} runs on the ${sides(policy.sides)} only, not on the ${sides(match.sides)}`,
      );
      ok = false;
      continue;
    }
    const scoped: GovernanceIssues = {
      report: (sub, message) => {
        issues.report([...at, ...sub], message);
      },
    };
    const reported = { any: false };
    const spec = policy.compile(value, {
      report: (sub, message) => {
        reported.any = true;
        scoped.report(sub, message);
      },
    });
    if (reported.any || spec === undefined) {
      ok = false;
      continue;
    }
    policies.push({
      policy,
      spec,
      identity: `${name}\u0000${policy.name}\u0000${JSON.stringify(value)}`,
    });
  }
  if (ok && policies.length === 0) {
    issues.report(path, `a rule needs a policy (${[...kinds.keys()].join(", ")})`);
    ok = false;
  }
  return ok && match !== undefined ? { match, policies } : undefined;
}

function sides(list: readonly GovernanceSide[]): string {
  return list.length === 1 ? `${list[0] ?? ""} side` : "server and client sides";
}
