// Route rules for canaries (go-chassis's router): a rule's `route` sends the calls it governs to
// weighted destinations, each a set of instances named by version and / or metadata tags, e.g.
// 90% to `version: v1` and 10% to `version: v2`, or every call of `x-md-user: beta` to v2. The
// destination is drawn per call in middleware, where the call's headers are known; the node
// picker applies it to the live nodes before the balancer picks (a selector filter), where the
// live instances are known, so a destination with none falls back as the rule says.
import type { MeterProvider } from "@opentelemetry/api";
import { describe } from "../config/value.js";
import { KratosError } from "../errors/error.js";
import { reasons } from "../errors/reasons.js";
import { metadataFilter, versionFilter } from "../selector/filter.js";
import type { Node, NodeFilter } from "../selector/selector.js";
import { routeNodes } from "../transport/route-hint.js";
import { readMap, readString } from "./fields.js";
import type { FieldPath } from "./fields.js";
import { createGovernanceCounter, markSpan } from "./observe.js";
import type { GovernanceIssues, GovernancePolicy } from "./policy.js";

/** One destination of a route: the instances with this version and these metadata tags. */
export interface RouteDestination {
  /** Names it in metrics and span events: `name`, or `version=v2,env=canary`. */
  readonly label: string;
  readonly version: string | undefined;
  readonly metadata: Readonly<Record<string, string>> | undefined;
  /** Its share of the calls, relative to the other weights; 0: only ever a fallback. */
  readonly weight: number;
  /** Keeps the nodes of the destination's instances. */
  readonly filter: NodeFilter;
}

/** The checked `route` of a rule. */
export interface RouteSpec {
  readonly destinations: readonly RouteDestination[];
  /**
   * When the drawn destination has no live instance: `next` tries the destinations after it in
   * the list, then those before it, and takes the first with one; `fail` answers 503
   * NODE_NOT_FOUND.
   */
  readonly fallback: "next" | "fail";
}

/** Options of {@link routePolicy}. */
export interface RoutePolicyOptions {
  /** Where `client_routed_total` is counted. Default: the global provider. */
  meterProvider?: MeterProvider | undefined;
}

/**
 * The `route` policy kind (client side, order 400): `destinations: [{ version, metadata,
 * weight, name }]` and `fallback: next | fail` (default `next`). Weights are relative shares
 * (all given, or none: equal shares). Every routed call is counted in
 * `client_routed_total{side, operation, rule, destination}` (the destination it went to,
 * `none` when it had no live one) and marked on the active span as a `governance.route` event.
 */
export function routePolicy(options: RoutePolicyOptions = {}): GovernancePolicy<RouteSpec> {
  const count = createGovernanceCounter({
    name: "client_routed_total",
    description: "Calls sent to a destination by a governance route rule",
    meterProvider: options.meterProvider,
  });
  return {
    name: "route",
    sides: ["client"],
    order: 400,
    compile: compileRoute,
    create(spec, { rule, random }) {
      const total = spec.destinations.reduce((sum, d) => sum + d.weight, 0);
      return {
        middleware: (next) =>
          async function route(ctx, req) {
            const drawn = chooseDestination(spec.destinations, total, random);
            // What the picker resolved: undefined until it ran (a call that ends before it
            // picks a node, e.g. on an injected fault, was not routed), null for no live node.
            let went: RouteDestination | null | undefined;
            routeNodes(ctx, (nodes) => {
              const [destination, kept] = resolve(spec, drawn, nodes);
              went = destination ?? null;
              if (destination !== undefined) return kept;
              const wanted = spec.destinations[drawn]?.label ?? "";
              const also = spec.fallback === "next" && spec.destinations.length > 1;
              throw new KratosError(
                503,
                reasons.nodeNotFound,
                `route rule "${rule}": no live instance of ${wanted}${also ? " nor of the other destinations" : ""}`,
              );
            });
            try {
              return await next(ctx, req);
            } finally {
              if (went !== undefined) {
                const label = went === null ? "none" : went.label;
                count(ctx, rule, { destination: label });
                markSpan("route", rule, { "governance.destination": label });
              }
            }
          },
      };
    },
  };
}

/**
 * The index of the destination a call goes to: drawn by weight with `random` (uniform in
 * [0, 1)); `total` is the sum of the weights, more than 0.
 */
export function chooseDestination(
  destinations: readonly RouteDestination[],
  total: number,
  random: () => number,
): number {
  const r = random() * total;
  let sum = 0;
  let last = 0;
  for (const [i, d] of destinations.entries()) {
    if (d.weight <= 0) continue;
    sum += d.weight;
    last = i;
    if (r < sum) return i;
  }
  return last; // only when rounding put r at the total
}

/** The destination a call drawn for `drawn` goes to among `nodes`, and its nodes. */
function resolve(
  spec: RouteSpec,
  drawn: number,
  nodes: Node[],
): [RouteDestination | undefined, Node[]] {
  const n = spec.destinations.length;
  const tries = spec.fallback === "next" ? n : 1;
  for (let k = 0; k < tries; k++) {
    const destination = spec.destinations[(drawn + k) % n];
    if (destination === undefined) continue;
    const kept = destination.filter(nodes);
    if (kept.length > 0) return [destination, kept];
  }
  return [undefined, []];
}

function compileRoute(raw: unknown, issues: GovernanceIssues): RouteSpec | undefined {
  const fields = readMap(raw, issues, [], ["destinations", "fallback"]);
  if (fields === undefined) return undefined;
  let fallback: RouteSpec["fallback"] | undefined = "next";
  if (fields["fallback"] !== undefined) {
    const value = fields["fallback"];
    fallback = value === "next" || value === "fail" ? value : undefined;
    if (fallback === undefined) {
      issues.report(["fallback"], `expected next or fail, got ${describe(value)}`);
    }
  }
  const list = fields["destinations"];
  if (!Array.isArray(list) || list.length === 0) {
    issues.report(
      ["destinations"],
      list === undefined
        ? "required: a list of destinations ({ version, metadata, weight })"
        : `expected a non-empty list of destinations, got ${describe(list)}`,
    );
    return undefined;
  }
  const weighted = list.some((d: unknown) => typeof d === "object" && d !== null && "weight" in d);
  const destinations: RouteDestination[] = [];
  let ok = fallback !== undefined;
  const labels = new Map<string, number>();
  list.forEach((item: unknown, i) => {
    const destination = compileDestination(item, issues, ["destinations", i], weighted);
    if (destination === undefined) {
      ok = false;
      return;
    }
    const first = labels.get(destination.label);
    if (first !== undefined) {
      issues.report(["destinations", i], `same destination as destinations.${first}`);
      ok = false;
    }
    labels.set(destination.label, i);
    destinations.push(destination);
  });
  if (ok && destinations.reduce((sum, d) => sum + d.weight, 0) <= 0) {
    issues.report(["destinations"], "the weights sum to 0: no call could be routed");
    ok = false;
  }
  return ok && fallback !== undefined ? { destinations, fallback } : undefined;
}

function compileDestination(
  raw: unknown,
  issues: GovernanceIssues,
  at: FieldPath,
  weighted: boolean,
): RouteDestination | undefined {
  const fields = readMap(raw, issues, at, ["name", "version", "metadata", "weight"]);
  if (fields === undefined) return undefined;
  let ok = true;
  const name = readString(fields["name"], issues, [...at, "name"]);
  if (fields["name"] !== undefined && name === undefined) ok = false;
  const version = readString(fields["version"], issues, [...at, "version"]);
  if (fields["version"] !== undefined && version === undefined) ok = false;
  const metadata =
    fields["metadata"] === undefined ? undefined : readTags(fields["metadata"], issues, at);
  if (fields["metadata"] !== undefined && metadata === undefined) ok = false;
  if (ok && version === undefined && metadata === undefined) {
    issues.report(at, "expected version, metadata or both: which instances to send calls to");
    ok = false;
  }
  let weight = 1;
  if (weighted) {
    const w = readWeight(fields["weight"], issues, [...at, "weight"]);
    if (w === undefined) ok = false;
    else weight = w;
  }
  if (!ok) return undefined;
  const filters: NodeFilter[] = [];
  if (version !== undefined) filters.push(versionFilter(version));
  if (metadata !== undefined) filters.push(metadataFilter(metadata));
  const tags = [
    ...(version === undefined ? [] : [`version=${version}`]),
    ...Object.entries(metadata ?? {}).map(([k, v]) => `${k}=${v}`),
  ];
  return {
    label: name ?? tags.join(","),
    version,
    metadata,
    weight,
    filter: (nodes) => filters.reduce((kept, filter) => filter(kept), nodes),
  };
}

function readTags(
  raw: unknown,
  issues: GovernanceIssues,
  at: FieldPath,
): Record<string, string> | undefined {
  const path = [...at, "metadata"];
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    issues.report(path, `expected a map of metadata keys to values, got ${describe(raw)}`);
    return undefined;
  }
  const tags: Record<string, string> = {};
  let ok = true;
  for (const [key, value] of Object.entries(raw)) {
    // Registries publish metadata as strings; YAML may read `weight: 1` or `canary: true`.
    if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") {
      tags[key] = String(value);
    } else {
      issues.report([...path, key], `expected a string, got ${describe(value)}`);
      ok = false;
    }
  }
  if (ok && Object.keys(tags).length === 0) {
    issues.report(path, "expected at least one metadata key");
    ok = false;
  }
  return ok ? tags : undefined;
}

function readWeight(raw: unknown, issues: GovernanceIssues, path: FieldPath): number | undefined {
  if (raw === undefined) {
    issues.report(path, "required when another destination has a weight");
    return undefined;
  }
  const n = typeof raw === "string" && raw.trim() !== "" ? Number(raw) : raw;
  if (typeof n !== "number" || !Number.isFinite(n)) {
    issues.report(path, `expected a number >= 0, got ${describe(raw)}`);
    return undefined;
  }
  if (n < 0) {
    issues.report(path, `negative weight ${n}`);
    return undefined;
  }
  return n;
}
