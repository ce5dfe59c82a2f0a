// The `retry` policy kind: a rule's retry settings drive `retry.client` (attempts, backoff with
// jitter, the codes that retry, a retry budget, whether calls that are not idempotent may be
// sent twice). Plain data in, checked by the middleware's own resolveRetryOptions one option at
// a time, so that every bad option is one issue at its path.
import type { MeterProvider } from "@opentelemetry/api";
import { describe } from "../config/value.js";
import { resolveRetryOptions, retry } from "../middleware/retry.js";
import type { RetryOptions } from "../middleware/retry.js";
import type { BackoffOptions } from "../middleware/retry-backoff.js";
import type { RetryBudgetOptions } from "../middleware/retry-budget.js";
import { check, readBoolean, readChoice, readNumber } from "./checks.js";
import { readDuration, readMap } from "./fields.js";
import type { FieldPath } from "./fields.js";
import type { GovernanceIssues, GovernancePolicy } from "./policy.js";

/** The checked `retry` of a rule: {@link RetryOptions} as `retry.client` takes them. */
export type RetrySpec = Readonly<RetryOptions>;

/** Options of {@link retryPolicy}. */
export interface RetryPolicyOptions {
  /** Where the retries are counted. Default: the global provider. */
  meterProvider?: MeterProvider | undefined;
  /** The wall clock in ms for deadlines and the budget. Default `Date.now`; tests inject one. */
  now?: (() => number) | undefined;
  /** Waits before a retry. Default: a timer; tests inject one to skip the backoff. */
  sleep?: ((ms: number, signal: AbortSignal) => Promise<void>) | undefined;
}

/**
 * The `retry` policy kind, client side (order 500):
 * `{ attempts, backoff: { base, max, multiplier, jitter: full | equal }, codes: [503,
 * UNAVAILABLE], budget: { ratio, min_per_second, window }, non_idempotent }`, durations as Go
 * durations or ms; every key has `retry.client`'s default. The jitter draws from the store's
 * random numbers. Each rule's instance keeps its retry budget while the rule is unchanged; an
 * edit of the rule starts a new budget.
 */
export function retryPolicy(options: RetryPolicyOptions = {}): GovernancePolicy<RetrySpec> {
  return {
    name: "retry",
    sides: ["client"],
    order: 500,
    compile: compileRetry,
    create(spec, { rule, random }) {
      const middleware = retry.client(
        { ...spec, name: rule },
        {
          random,
          ...(options.meterProvider === undefined ? {} : { meterProvider: options.meterProvider }),
          ...(options.now === undefined ? {} : { now: options.now }),
          ...(options.sleep === undefined ? {} : { sleep: options.sleep }),
        },
      );
      return { middleware };
    },
  };
}

function compileRetry(raw: unknown, issues: GovernanceIssues): RetrySpec | undefined {
  const fields = readMap(
    raw,
    issues,
    [],
    ["attempts", "backoff", "codes", "budget", "nonIdempotent"],
  );
  if (fields === undefined) return undefined;
  let ok = true;
  const spec: RetryOptions = {};
  const attempts = readNumber(fields["attempts"], issues, ["attempts"], { min: 1, integer: true });
  if (attempts !== undefined) spec.attempts = attempts;
  else ok &&= fields["attempts"] === undefined;
  if (fields["backoff"] !== undefined) {
    const backoff = compileBackoff(fields["backoff"], issues);
    if (backoff === undefined) ok = false;
    else spec.backoff = backoff;
  }
  if (fields["codes"] !== undefined) {
    const codes = compileCodes(fields["codes"], issues);
    if (codes === undefined) ok = false;
    else spec.codes = codes;
  }
  if (fields["budget"] !== undefined) {
    const budget = compileBudget(fields["budget"], issues);
    if (budget === undefined) ok = false;
    else spec.budget = budget;
  }
  const nonIdempotent = readBoolean(fields["nonIdempotent"], issues, ["nonIdempotent"]);
  if (nonIdempotent !== undefined) spec.nonIdempotent = nonIdempotent;
  else ok &&= fields["nonIdempotent"] === undefined;
  // The whole, for what spans options (backoff.max below backoff.base's default max, ...).
  if (ok) ok = check(issues, [], () => resolveRetryOptions(spec));
  return ok ? spec : undefined;
}

function compileBackoff(raw: unknown, issues: GovernanceIssues): BackoffOptions | undefined {
  const at: FieldPath = ["backoff"];
  const fields = readMap(raw, issues, at, ["base", "max", "multiplier", "jitter"]);
  if (fields === undefined) return undefined;
  const out: BackoffOptions = {};
  let ok = true;
  for (const key of ["base", "max"] as const) {
    if (fields[key] === undefined) continue;
    const ms = readDuration(fields[key], issues, [...at, key]);
    if (ms === undefined) ok = false;
    else out[key] = ms;
  }
  if (out.base !== undefined && out.max !== undefined && out.max < out.base) {
    issues.report([...at, "max"], `${out.max} ms is below base (${out.base} ms)`);
    ok = false;
  }
  const multiplier = readNumber(fields["multiplier"], issues, [...at, "multiplier"], { min: 1 });
  if (multiplier !== undefined) out.multiplier = multiplier;
  else ok &&= fields["multiplier"] === undefined;
  const jitter = readChoice(fields["jitter"], issues, [...at, "jitter"], ["full", "equal"]);
  if (jitter !== undefined) out.jitter = jitter;
  else ok &&= fields["jitter"] === undefined;
  return ok ? out : undefined;
}

function compileCodes(raw: unknown, issues: GovernanceIssues): (number | string)[] | undefined {
  const list: unknown[] = Array.isArray(raw) ? raw : [raw];
  const codes: (number | string)[] = [];
  let ok = true;
  for (const [i, item] of list.entries()) {
    const path: FieldPath = Array.isArray(raw) ? ["codes", i] : ["codes"];
    // "503" from an env override is the number 503; names are matched in upper case.
    const code =
      typeof item === "string" && /^\d+$/.test(item)
        ? Number(item)
        : typeof item === "string"
          ? item.toUpperCase()
          : item;
    if (typeof code !== "number" && typeof code !== "string") {
      issues.report(path, `expected an HTTP code or a gRPC code name, got ${describe(item)}`);
      ok = false;
      continue;
    }
    if (!check(issues, path, () => resolveRetryOptions({ codes: [code] }))) ok = false;
    codes.push(code);
  }
  return ok ? codes : undefined;
}

function compileBudget(raw: unknown, issues: GovernanceIssues): RetryBudgetOptions | undefined {
  const at: FieldPath = ["budget"];
  const fields = readMap(raw, issues, at, ["ratio", "minPerSecond", "window"]);
  if (fields === undefined) return undefined;
  const out: RetryBudgetOptions = {};
  let ok = true;
  const ratio = readNumber(fields["ratio"], issues, [...at, "ratio"], { min: 0, max: 1 });
  if (ratio !== undefined) out.ratio = ratio;
  else ok &&= fields["ratio"] === undefined;
  const min = readNumber(fields["minPerSecond"], issues, [...at, "minPerSecond"], { min: 0 });
  if (min !== undefined) out.minPerSecond = min;
  else ok &&= fields["minPerSecond"] === undefined;
  if (fields["window"] !== undefined) {
    const window = readDuration(fields["window"], issues, [...at, "window"]);
    if (window === 0) issues.report([...at, "window"], "must be above 0");
    if (window === undefined || window === 0) ok = false;
    else out.window = window;
  }
  return ok ? out : undefined;
}
