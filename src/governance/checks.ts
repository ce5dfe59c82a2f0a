// Readers the resilience policies share on top of fields.ts: numbers with a floor, booleans,
// and a bridge from a middleware's own option check (which throws on the first bad option) to
// one issue per option, at its path.
import { describe } from "../config/value.js";
import type { FieldPath } from "./fields.js";
import type { GovernanceIssues } from "./policy.js";

/** Bounds of {@link readNumber}. */
export interface NumberBounds {
  /** The smallest value allowed. */
  readonly min?: number;
  /** The value must be above `min`, not equal to it. */
  readonly above?: boolean;
  /** The largest value allowed. */
  readonly max?: number;
  /** Only whole numbers. */
  readonly integer?: boolean;
}

/** A number (or a numeric string) within `bounds`; absent is undefined without a report. */
export function readNumber(
  raw: unknown,
  issues: GovernanceIssues,
  path: FieldPath,
  bounds: NumberBounds = {},
): number | undefined {
  if (raw === undefined) return undefined;
  const n = typeof raw === "string" && raw.trim() !== "" ? Number(raw) : raw;
  const what = bounds.integer === true ? "an integer" : "a number";
  if (typeof n !== "number" || !Number.isFinite(n)) {
    issues.report(path, `expected ${what}, got ${describe(raw)}`);
    return undefined;
  }
  const { min, max } = bounds;
  const low = min !== undefined && (bounds.above === true ? n <= min : n < min);
  if ((bounds.integer === true && !Number.isInteger(n)) || low || (max !== undefined && n > max)) {
    const range =
      min !== undefined && max !== undefined
        ? ` in ${min}..${max}`
        : min !== undefined
          ? ` ${bounds.above === true ? ">" : ">="} ${min}`
          : "";
    issues.report(path, `${describe(raw)} is not ${what}${range}`);
    return undefined;
  }
  return n;
}

/** A boolean (`true` / `false`, also as strings, as env overrides write them). */
export function readBoolean(
  raw: unknown,
  issues: GovernanceIssues,
  path: FieldPath,
): boolean | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw === "boolean") return raw;
  if (raw === "true" || raw === "false") return raw === "true";
  issues.report(path, `expected true or false, got ${describe(raw)}`);
  return undefined;
}

/** One of `choices`; absent is undefined without a report. */
export function readChoice<T extends string>(
  raw: unknown,
  issues: GovernanceIssues,
  path: FieldPath,
  choices: readonly T[],
): T | undefined {
  if (raw === undefined) return undefined;
  const found = choices.find((c) => c === raw);
  if (found === undefined) {
    issues.report(path, `${describe(raw)} is not one of ${choices.join(", ")}`);
  }
  return found;
}

/**
 * Runs a middleware's own option check (`resolveRetryOptions`, building a middleware) and turns
 * the error it throws into an issue at `path`, without the module and option name the message
 * starts with (`retry: backoff.max 10 is not ...` -> `10 is not ...`). Returns whether it passed.
 */
export function check(issues: GovernanceIssues, path: FieldPath, run: () => unknown): boolean {
  try {
    run();
    return true;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    // "<module>: <option> <what>": the path names the option already.
    const bare = message.replace(/^[a-z ]+: (?:[A-Za-z.]+ (?=\S))?/, "");
    issues.report(path, bare);
    return false;
  }
}
