// The `bulkhead` policy kind: a rule's concurrency cap drives `bulkhead.server`. The in-flight
// counts and queues of a rule are kept across edits of the rule, so a new cap counts the calls
// still running under the old one.
import type { MeterProvider } from "@opentelemetry/api";
import { bulkhead, createBulkheadState } from "../middleware/bulkhead.js";
import type { BulkheadOptions, BulkheadState } from "../middleware/bulkhead.js";
import { readChoice, readNumber } from "./checks.js";
import { readDuration, readMap } from "./fields.js";
import type { GovernanceIssues, GovernancePolicy } from "./policy.js";

/** The checked `bulkhead` of a rule: {@link BulkheadOptions} without the name. */
export type BulkheadSpec = Readonly<Omit<BulkheadOptions, "name">>;

/** Options of {@link bulkheadPolicy}. */
export interface BulkheadPolicyOptions {
  /** Where rejections and queued calls are counted. Default: the global provider. */
  meterProvider?: MeterProvider | undefined;
}

/**
 * The `bulkhead` policy kind, server side (order 200): `{ max_concurrent (required), max_queue
 * (default 0), max_wait (default 1s), scope: operation | rule }`; the excess is answered 429
 * `BULKHEAD_FULL` (gRPC RESOURCE_EXHAUSTED).
 *
 * A rule's compartments (in-flight counts, queues) outlive an edit of its settings: the backbone
 * builds a new instance when the rule's value changes, and this policy hands it the state of the
 * one it replaces (by rule name), so calls in flight keep their slots and the new cap applies
 * from the next admission. A slot freed by a call that started under the old settings admits
 * waiters under the old cap once more. Stores sharing one policy object share the compartments
 * of rules with the same name: give each store its own `bulkheadPolicy()`.
 */
export function bulkheadPolicy(
  options: BulkheadPolicyOptions = {},
): GovernancePolicy<BulkheadSpec> {
  // The state of each rule name with the number of live instances using it.
  const states = new Map<string, { state: BulkheadState; users: number }>();
  return {
    name: "bulkhead",
    sides: ["server"],
    order: 200,
    compile: compileBulkhead,
    create(spec, { rule }) {
      let held = states.get(rule);
      if (held === undefined) {
        held = { state: createBulkheadState(), users: 0 };
        states.set(rule, held);
      }
      held.users++;
      const entry = held;
      const middleware = bulkhead.server(
        { ...spec, name: rule },
        {
          state: entry.state,
          ...(options.meterProvider === undefined ? {} : { meterProvider: options.meterProvider }),
        },
      );
      let closed = false;
      return {
        middleware,
        close() {
          if (closed) return;
          closed = true;
          // The replacement was built before this one is closed: it holds the state by now.
          if (--entry.users === 0 && states.get(rule) === entry) states.delete(rule);
        },
      };
    },
  };
}

function compileBulkhead(raw: unknown, issues: GovernanceIssues): BulkheadSpec | undefined {
  const fields = readMap(raw, issues, [], ["maxConcurrent", "maxQueue", "maxWait", "scope"]);
  if (fields === undefined) return undefined;
  if (fields["maxConcurrent"] === undefined) {
    issues.report(["maxConcurrent"], "required: the most calls running at once (an integer >= 1)");
  }
  const maxConcurrent = readNumber(fields["maxConcurrent"], issues, ["maxConcurrent"], {
    min: 1,
    integer: true,
  });
  const maxQueue = readNumber(fields["maxQueue"], issues, ["maxQueue"], { min: 0, integer: true });
  const maxWait =
    fields["maxWait"] === undefined
      ? undefined
      : readDuration(fields["maxWait"], issues, ["maxWait"]);
  const scope = readChoice(fields["scope"], issues, ["scope"], ["operation", "rule"]);
  const bad =
    maxConcurrent === undefined ||
    (maxQueue === undefined && fields["maxQueue"] !== undefined) ||
    (maxWait === undefined && fields["maxWait"] !== undefined) ||
    (scope === undefined && fields["scope"] !== undefined);
  if (bad) return undefined;
  return {
    maxConcurrent,
    ...(maxQueue === undefined ? {} : { maxQueue }),
    ...(maxWait === undefined ? {} : { maxWait }),
    ...(scope === undefined ? {} : { scope }),
  };
}
