// The `match` part of a rule: which calls it governs. Every condition given must hold; a rule
// without `match` governs every call on the sides its policies run on.
import { describe } from "../config/value.js";
import type { Header } from "../transport/header.js";
import { readMap, readRegex } from "./fields.js";
import type { FieldPath } from "./fields.js";
import type { GovernanceIssues, GovernanceSide } from "./policy.js";

/** A compiled `match`. */
export interface RuleMatch {
  /** The sides named by `side`; both when it is absent. */
  readonly sides: readonly GovernanceSide[];
  /** Whether the operation (`/pkg.Svc/Method`) is governed; cached per operation by the rule set. */
  operation(operation: string): boolean;
  /** True when the rule has header conditions: they are checked on every call. */
  readonly hasHeaders: boolean;
  /** Whether the request headers (metadata included: `x-md-*`) meet every condition. */
  headers(header: Header): boolean;
}

type HeaderTest = readonly [name: string, test: (value: string) => boolean];

const matchFields = ["side", "service", "operations", "regex", "headers"];

/**
 * Compiles `raw` (the value of `match`, or undefined). `operations`, when given, are the
 * operations the server serves: exact operations, prefixes and services naming none of them
 * are reported for rules that may run on the server.
 */
export function compileMatch(
  raw: unknown,
  issues: GovernanceIssues,
  path: FieldPath,
  operations: ReadonlySet<string> | undefined,
): RuleMatch | undefined {
  if (raw === undefined) return everything;
  const fields = readMap(raw, issues, path, matchFields);
  if (fields === undefined) return undefined;
  let ok = true;
  const fail = (at: FieldPath, message: string) => {
    issues.report(at, message);
    ok = false;
  };

  let sides: readonly GovernanceSide[] = both;
  if (fields["side"] !== undefined) {
    const side = fields["side"];
    if (side === "server" || side === "client") sides = [side];
    else fail([...path, "side"], `expected server or client, got ${describe(side)}`);
  }
  const known = sides.includes("server") ? operations : undefined;

  const services = stringList(fields["service"], [...path, "service"], fail);
  const exact = new Set<string>();
  const prefixes: string[] = [];
  let all = false;
  for (const [i, service] of services.entries()) {
    const at = [...path, "service", ...(Array.isArray(fields["service"]) ? [i] : [])];
    if (service.includes("/")) {
      fail(at, `expected a service name such as helloworld.v1.Greeter, got ${describe(service)}`);
      continue;
    }
    if (known !== undefined && !someStartsWith(known, `/${service}/`)) {
      fail(at, `unknown service "${service}" (served: ${servicesOf(known)})`);
    }
    prefixes.push(`/${service}/`);
  }
  const list = stringList(fields["operations"], [...path, "operations"], fail);
  for (const [i, op] of list.entries()) {
    const at = [...path, "operations", ...(Array.isArray(fields["operations"]) ? [i] : [])];
    if (op === "*" || op === "/*") all = true;
    else if (!op.startsWith("/")) {
      fail(at, `expected /pkg.Service/Method, /pkg.Service/* or /*, got ${describe(op)}`);
    } else if (op.endsWith("*")) {
      const prefix = op.slice(0, -1);
      if (known !== undefined && !someStartsWith(known, prefix)) {
        fail(at, `no served operation starts with "${prefix}"`);
      }
      prefixes.push(prefix);
    } else {
      if (known !== undefined && !known.has(op)) fail(at, `unknown operation "${op}"`);
      exact.add(op);
    }
  }
  const regex =
    fields["regex"] === undefined
      ? undefined
      : readRegex(fields["regex"], issues, [...path, "regex"]);
  if (fields["regex"] !== undefined && regex === undefined) ok = false;
  const headers = headerTests(fields["headers"], issues, [...path, "headers"]);
  if (headers === undefined) ok = false;
  if (!ok || headers === undefined) return undefined;

  // Services and operations together: either may name the call. With neither, any operation.
  const byName = services.length > 0 || list.length > 0;
  const operation = (op: string): boolean =>
    (!byName || all || exact.has(op) || prefixes.some((p) => op.startsWith(p))) &&
    (regex === undefined || regex.test(op));
  return {
    sides,
    operation,
    hasHeaders: headers.length > 0,
    headers: (header) => headers.every(([name, test]) => test(header.get(name) ?? "")),
  };
}

const both: readonly GovernanceSide[] = ["server", "client"];

const everything: RuleMatch = {
  sides: both,
  operation: () => true,
  hasHeaders: false,
  headers: () => true,
};

function stringList(
  raw: unknown,
  path: FieldPath,
  fail: (at: FieldPath, message: string) => void,
): string[] {
  if (raw === undefined) return [];
  if (typeof raw === "string" && raw !== "") return [raw];
  if (Array.isArray(raw)) {
    const out: string[] = [];
    raw.forEach((item: unknown, i) => {
      if (typeof item === "string" && item !== "") out.push(item);
      else fail([...path, i], `expected a non-empty string, got ${describe(item)}`);
    });
    return out;
  }
  fail(path, `expected a string or a list of strings, got ${describe(raw)}`);
  return [];
}

// `x-md-user: beta` (exact) or `x-md-user: { regex: "^beta-" }` / `{ exact: beta }`. A header
// that is absent reads as "", so `{ regex: "^$" }` matches its absence.
function headerTests(
  raw: unknown,
  issues: GovernanceIssues,
  path: FieldPath,
): HeaderTest[] | undefined {
  if (raw === undefined) return [];
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    issues.report(path, `expected a map of header names to values, got ${describe(raw)}`);
    return undefined;
  }
  const tests: HeaderTest[] = [];
  let ok = true;
  for (const [name, value] of Object.entries(raw)) {
    const at = [...path, name];
    const lower = name.toLowerCase();
    if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") {
      const want = String(value);
      tests.push([lower, (v) => v === want]);
      continue;
    }
    const spec = readMap(value, issues, at, ["exact", "regex"]);
    if (spec === undefined) {
      ok = false;
      continue;
    }
    if ((spec["exact"] === undefined) === (spec["regex"] === undefined)) {
      issues.report(at, "expected a value, or one of exact and regex");
      ok = false;
    } else if (spec["regex"] !== undefined) {
      const re = readRegex(spec["regex"], issues, [...at, "regex"]);
      if (re === undefined) ok = false;
      else tests.push([lower, (v) => re.test(v)]);
    } else {
      const want = String(spec["exact"]);
      tests.push([lower, (v) => v === want]);
    }
  }
  return ok ? tests : undefined;
}

function someStartsWith(set: ReadonlySet<string>, prefix: string): boolean {
  for (const op of set) if (op.startsWith(prefix)) return true;
  return false;
}

function servicesOf(set: ReadonlySet<string>): string {
  const names = new Set([...set].map((op) => op.slice(1, op.lastIndexOf("/"))));
  return [...names].join(", ") || "none";
}
