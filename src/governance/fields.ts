// Readers of the plain data a rule set is written in (YAML / JSON from any config source), for
// the backbone and for policies: each reports a problem at its path and returns undefined, so
// that a rule set is checked whole and every problem is listed at once.
import { durationHint, parseDurationNanos } from "../config/duration.js";
import { describe } from "../config/value.js";
import type { GovernanceIssues } from "./policy.js";

/** A path below the value being read: keys and list indexes. */
export type FieldPath = readonly (string | number)[];

/** `rate_limit` -> `rateLimit`: config files spell keys snake_case, as proto field names. */
export function camelKey(key: string): string {
  return key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * A map whose keys must be among `known` (camelCase; snake_case spellings are accepted and
 * returned camelCased). Reports a non-map, and each unknown key, with the known ones.
 */
export function readMap(
  raw: unknown,
  issues: GovernanceIssues,
  path: FieldPath,
  known: readonly string[],
): Record<string, unknown> | undefined {
  if (!isMap(raw)) {
    issues.report(path, `expected a map, got ${describe(raw)}`);
    return undefined;
  }
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    const name = camelKey(key);
    if (!known.includes(name)) {
      issues.report([...path, key], `unknown field "${key}" (known: ${known.join(", ")})`);
      continue;
    }
    out[name] = value;
  }
  return out;
}

/** A string; with `required` false an absent value is undefined without a report. */
export function readString(
  raw: unknown,
  issues: GovernanceIssues,
  path: FieldPath,
  required = false,
): string | undefined {
  if (raw === undefined && !required) return undefined;
  if (typeof raw === "string" && raw !== "") return raw;
  issues.report(path, `expected a non-empty string, got ${describe(raw)}`);
  return undefined;
}

/** A percentage in 0..100 (numbers or numeric strings); absent is `fallback`. */
export function readPercentage(
  raw: unknown,
  issues: GovernanceIssues,
  path: FieldPath,
  fallback = 100,
): number | undefined {
  if (raw === undefined) return fallback;
  const n = typeof raw === "string" && raw.trim() !== "" ? Number(raw) : raw;
  if (typeof n !== "number" || !Number.isFinite(n)) {
    issues.report(path, `expected a percentage 0..100, got ${describe(raw)}`);
    return undefined;
  }
  if (n < 0 || n > 100) {
    issues.report(path, `${n} is outside 0..100`);
    return undefined;
  }
  return n;
}

/**
 * Milliseconds: a Go duration string (`500ms`, `1m30s`) or a number of milliseconds; never
 * negative.
 */
export function readDuration(
  raw: unknown,
  issues: GovernanceIssues,
  path: FieldPath,
): number | undefined {
  let ms: number | undefined;
  if (typeof raw === "number" && Number.isFinite(raw)) ms = raw;
  else if (typeof raw === "string") {
    const nanos = parseDurationNanos(raw);
    if (nanos !== undefined) ms = nanos / 1e6;
  }
  if (ms === undefined) {
    issues.report(path, `expected a duration, got ${describe(raw)} (${durationHint})`);
    return undefined;
  }
  if (ms < 0) {
    issues.report(path, `negative duration ${describe(raw)}`);
    return undefined;
  }
  return ms;
}

/** A regular expression (JavaScript syntax, unanchored: add `^` and `$` to match whole). */
export function readRegex(
  raw: unknown,
  issues: GovernanceIssues,
  path: FieldPath,
): RegExp | undefined {
  if (typeof raw !== "string") {
    issues.report(path, `expected a regular expression, got ${describe(raw)}`);
    return undefined;
  }
  try {
    return new RegExp(raw);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    issues.report(path, `bad regular expression ${describe(raw)}: ${why}`);
    return undefined;
  }
}
