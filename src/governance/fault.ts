// Fault injection (go-chassis's fault handler): a rule's `fault` delays calls, aborts them with
// an error of the rule's choosing, or both, each for a percentage of the calls it governs. For
// chaos tests and resilience drills: the faults are innermost, so retries, breakers, logging,
// metrics and tracing see them like real failures.
import type { MeterProvider } from "@opentelemetry/api";
import { KratosError } from "../errors/error.js";
import { httpCodeFromGrpc } from "../errors/grpc.js";
import { reasons } from "../errors/reasons.js";
import { describe } from "../config/value.js";
import { abortableSleep } from "../internal/abortable-sleep.js";
import { readDuration, readMap, readPercentage, readString } from "./fields.js";
import type { FieldPath } from "./fields.js";
import { createGovernanceCounter, markSpan } from "./observe.js";
import type { GovernanceIssues, GovernancePolicy } from "./policy.js";

/** The checked `fault` of a rule. */
export interface FaultSpec {
  /** Wait `ms` before the call goes on, for `percentage` of the calls. */
  readonly delay?: { readonly ms: number; readonly percentage: number } | undefined;
  /** Fail the call with this error instead, for `percentage` of the calls. */
  readonly abort?:
    | {
        readonly code: number;
        readonly reason: string;
        readonly message: string | undefined;
        readonly percentage: number;
      }
    | undefined;
}

/** Options of {@link faultPolicy}. */
export interface FaultPolicyOptions {
  /** Where `governance_faults_total` is counted. Default: the global provider. */
  meterProvider?: MeterProvider | undefined;
}

// google.rpc.Code names; an abort written with one answers its HTTP twin (Kratos's table), which
// the gRPC transport maps back on the wire.
const grpcCodes: Record<string, number> = {
  CANCELLED: 1,
  CANCELED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
};

/**
 * The `fault` policy kind: `delay: { duration, percentage }` and `abort: { code, reason, message,
 * percentage }` (percentages 0..100, default 100; `code` an HTTP error code 400..599 or a gRPC
 * code name such as `UNAVAILABLE`; `reason` default `FAULT_INJECTED`). Runs on both sides.
 * Every injected delay and abort is counted in `governance_faults_total{side, operation, rule,
 * fault}` and marked on the active span as a `governance.fault` event.
 */
export function faultPolicy(options: FaultPolicyOptions = {}): GovernancePolicy<FaultSpec> {
  const count = createGovernanceCounter({
    name: "governance_faults_total",
    description: "Faults injected by governance rules",
    meterProvider: options.meterProvider,
  });
  return {
    name: "fault",
    sides: ["server", "client"],
    order: 600,
    compile: compileFault,
    create(spec, { rule, random }) {
      const { delay, abort } = spec;
      return {
        middleware: (next) =>
          async function fault(ctx, req) {
            if (delay !== undefined && hits(random, delay.percentage)) {
              count(ctx, rule, { fault: "delay" });
              markSpan("fault", rule, {
                "governance.fault": "delay",
                "governance.delay_ms": delay.ms,
              });
              // Ends with the context's abort reason (deadline: 504, cancel: 499) as soon as it
              // aborts, leaving no timer behind.
              if (delay.ms > 0) await abortableSleep(delay.ms, ctx.signal);
            }
            if (abort !== undefined && hits(random, abort.percentage)) {
              count(ctx, rule, { fault: "abort" });
              markSpan("fault", rule, {
                "governance.fault": "abort",
                "governance.code": abort.code,
              });
              throw new KratosError(
                abort.code,
                abort.reason,
                abort.message ?? `fault injected by governance rule "${rule}"`,
              );
            }
            return next(ctx, req);
          },
      };
    },
  };
}

function hits(random: () => number, percentage: number): boolean {
  // percentage 100 always hits (random() < 1), 0 never does.
  return percentage > 0 && random() * 100 < percentage;
}

function compileFault(raw: unknown, issues: GovernanceIssues): FaultSpec | undefined {
  const fields = readMap(raw, issues, [], ["delay", "abort"]);
  if (fields === undefined) return undefined;
  if (fields["delay"] === undefined && fields["abort"] === undefined) {
    issues.report([], "expected delay, abort or both");
    return undefined;
  }
  const delay = fields["delay"] === undefined ? undefined : compileDelay(fields["delay"], issues);
  const abort = fields["abort"] === undefined ? undefined : compileAbort(fields["abort"], issues);
  return { delay, abort };
}

function compileDelay(raw: unknown, issues: GovernanceIssues): FaultSpec["delay"] {
  const at: FieldPath = ["delay"];
  const fields = readMap(raw, issues, at, ["duration", "percentage"]);
  if (fields === undefined) return undefined;
  if (fields["duration"] === undefined) {
    issues.report([...at, "duration"], "required (500ms, 1s, ...)");
    return undefined;
  }
  const ms = readDuration(fields["duration"], issues, [...at, "duration"]);
  const percentage = readPercentage(fields["percentage"], issues, [...at, "percentage"]);
  return ms === undefined || percentage === undefined ? undefined : { ms, percentage };
}

function compileAbort(raw: unknown, issues: GovernanceIssues): FaultSpec["abort"] {
  const at: FieldPath = ["abort"];
  const fields = readMap(raw, issues, at, ["code", "reason", "message", "percentage"]);
  if (fields === undefined) return undefined;
  const code = abortCode(fields["code"], issues, [...at, "code"]);
  const reason = readString(fields["reason"], issues, [...at, "reason"]) ?? reasons.faultInjected;
  const message = readString(fields["message"], issues, [...at, "message"]);
  const percentage = readPercentage(fields["percentage"], issues, [...at, "percentage"]);
  return code === undefined || percentage === undefined
    ? undefined
    : { code, reason, message, percentage };
}

function abortCode(raw: unknown, issues: GovernanceIssues, at: FieldPath): number | undefined {
  if (raw === undefined) {
    issues.report(at, "required: an HTTP code 400..599 or a gRPC code name (UNAVAILABLE, ...)");
    return undefined;
  }
  if (typeof raw === "number" || (typeof raw === "string" && /^\d+$/.test(raw))) {
    const n = Number(raw);
    if (Number.isInteger(n) && n >= 400 && n <= 599) return n;
    issues.report(at, `${describe(raw)} is not an HTTP error code 400..599`);
    return undefined;
  }
  if (typeof raw === "string") {
    const grpc = grpcCodes[raw.toUpperCase()];
    if (grpc !== undefined) return httpCodeFromGrpc(grpc);
  }
  issues.report(
    at,
    `unknown code ${describe(raw)} (an HTTP code 400..599 or a gRPC code name: ${Object.keys(grpcCodes).join(", ")})`,
  );
  return undefined;
}
