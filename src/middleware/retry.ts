import type { MeterProvider } from "@opentelemetry/api";
import { Code } from "@connectrpc/connect";
import type { Context } from "../context.js";
import { fromError } from "../errors/from-error.js";
import { httpCodeFromGrpc } from "../errors/grpc.js";
import { resilienceTelemetry } from "../internal/resilience-telemetry.js";
import { notSent } from "../transport/not-sent.js";
import { avoidHost, callTraits } from "../transport/retry-hints.js";
import { clientTransport } from "../transport/transport.js";
import type { Middleware } from "./middleware.js";
import { abortableSleep } from "../internal/abortable-sleep.js";
import { backoffDelay, resolveBackoff } from "./retry-backoff.js";
import type { BackoffOptions, ResolvedBackoff } from "./retry-backoff.js";
import { createRetryBudget, resolveRetryBudget } from "./retry-budget.js";
import type { ResolvedRetryBudget, RetryBudget, RetryBudgetOptions } from "./retry-budget.js";

export { backoffDefaults, backoffDelay } from "./retry-backoff.js";
export type { BackoffOptions } from "./retry-backoff.js";
export { createRetryBudget, retryBudgetDefaults } from "./retry-budget.js";
export type { RetryBudget, RetryBudgetOptions } from "./retry-budget.js";

/**
 * Options of {@link retry.client}: plain data (a config layer can produce them), every field
 * with a default. Durations are in ms.
 */
export interface RetryOptions {
  /** Most attempts in all, the first included; 1 turns retries off. Default 3. */
  attempts?: number;
  /** The wait before each retry; see {@link BackoffOptions}. */
  backoff?: BackoffOptions;
  /**
   * The answers that are retried: Kratos (HTTP) codes such as 503, or gRPC code names such as
   * `"UNAVAILABLE"`, matched through the code they map to (a KratosError carries the HTTP code;
   * `"UNAVAILABLE"` is 503, `"RESOURCE_EXHAUSTED"` 429). Default `[503]`. Failures where the
   * request never reached a server (a refused connection, a refused stream) are always retried.
   */
  codes?: readonly (number | string)[];
  /** How many retries the client may add to its calls; see {@link RetryBudgetOptions}. */
  budget?: RetryBudgetOptions;
  /**
   * Retry calls that are not idempotent (HTTP POST and PATCH, gRPC methods without an
   * `idempotency_level`) even when they may have reached the server, so may run twice.
   * Default false: such calls are retried only when they were never sent.
   */
  nonIdempotent?: boolean;
  /** The rule's name, for the `rule` label of the metrics and the span events. Default "". */
  name?: string;
}

/**
 * What {@link retry.client} runs on beside its options: state to keep across a change of the
 * options, and seams for tests. Not config.
 */
export interface RetryRuntime {
  /**
   * The budget's counts; pass the one of the middleware being replaced to carry them over a
   * config change (its `window` must equal `budget.window`). Default: a new one per middleware.
   */
  budget?: RetryBudget;
  /** The wall clock in ms, compared with the call's deadline (and the new budget's clock). Default `Date.now`. */
  now?: () => number;
  /** A uniform random number in [0, 1), for the jitter. Default `Math.random`. */
  random?: () => number;
  /** Waits `ms` or rejects when `signal` aborts, leaving no timer behind. Default: a timer. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Default: the global meter provider. */
  meterProvider?: MeterProvider;
}

/** Retry options with every default applied, as the middleware uses them. */
export interface ResolvedRetryOptions {
  readonly attempts: number;
  readonly backoff: ResolvedBackoff;
  /** The retried codes, as Kratos (HTTP) codes. */
  readonly codes: ReadonlySet<number>;
  readonly budget: ResolvedRetryBudget;
  readonly nonIdempotent: boolean;
  readonly name: string;
}

/** The defaults of {@link RetryOptions} (backoff and budget have their own). */
export const retryDefaults = { attempts: 3, codes: [503], nonIdempotent: false, name: "" } as const;

// "RESOURCE_EXHAUSTED" -> the HTTP code Kratos maps it to; built from connect's Code enum.
const httpCodeByGrpcName: ReadonlyMap<string, number> = new Map(
  Object.entries(Code)
    .filter((entry): entry is [string, number] => typeof entry[1] === "number")
    .map(([name, code]) => [
      name.replace(/([a-z])([A-Z])/g, "$1_$2").toUpperCase(),
      httpCodeFromGrpc(code),
    ]),
);

/** Applies the defaults and checks every value; the error names the option. */
export function resolveRetryOptions(options: RetryOptions = {}): ResolvedRetryOptions {
  const attempts = options.attempts ?? retryDefaults.attempts;
  if (!Number.isInteger(attempts) || attempts < 1)
    throw new RangeError(`retry: attempts ${attempts} is not an integer >= 1`);
  const codes = new Set<number>();
  for (const c of options.codes ?? retryDefaults.codes) {
    if (typeof c === "number") {
      if (!Number.isInteger(c) || c < 400 || c > 599)
        throw new RangeError(`retry: code ${c} is not an error status (400-599)`);
      codes.add(c);
    } else {
      const code = httpCodeByGrpcName.get(c);
      if (code === undefined)
        throw new RangeError(`retry: code ${JSON.stringify(c)} is not a gRPC code name`);
      codes.add(code);
    }
  }
  return {
    attempts,
    backoff: resolveBackoff(options.backoff),
    codes,
    budget: resolveRetryBudget(options.budget),
    nonIdempotent: options.nonIdempotent ?? retryDefaults.nonIdempotent,
    name: options.name ?? retryDefaults.name,
  };
}

/**
 * Retries failed client calls: each retry runs the rest of the chain again, so the transport
 * picks a node afresh (preferring one the call has not tried) and sends a new request.
 *
 * A call is retried when all of these hold: attempts are left; the call is not cancelled; the
 * failure is one of `codes` or the request never reached a server; the call is idempotent, was
 * never sent, or `nonIdempotent` is set; the request can be sent again (unary calls, not
 * streams); the retry can start before the call's deadline once the backoff has passed; and the
 * retry budget has room. Otherwise the last failure is thrown as it is. Cancelling the call
 * during the backoff ends it at once with the cancellation's error.
 *
 * Each retry counts in `client_retries_total`, each refusal by the budget in
 * `client_retry_budget_exhausted_total` (labels `operation`, `rule`), and both mark the active
 * span (`retry`, `retry_budget_exhausted`). Put it inside tracing and metrics (after them in
 * the list) to see one span and one metric per call, outside to see one per attempt.
 */
export const retry = {
  client(options: RetryOptions = {}, runtime: RetryRuntime = {}): Middleware {
    const o = resolveRetryOptions(options);
    const now = runtime.now ?? Date.now;
    const random = runtime.random ?? Math.random;
    const sleep = runtime.sleep ?? abortableSleep;
    const budget = runtime.budget ?? createRetryBudget(o.budget.window, now);
    if (budget.window !== o.budget.window) {
      throw new RangeError(
        `retry: the budget given counts over ${budget.window} ms, budget.window says ${o.budget.window}`,
      );
    }
    const telemetry = resilienceTelemetry(o.name, runtime.meterProvider);
    return (next) =>
      async function retryClient(ctx, req) {
        budget.deposit();
        for (let attempt = 1; ; attempt++) {
          try {
            return await next(ctx, req);
          } catch (err) {
            if (attempt >= o.attempts || !retryable(o, ctx, err)) throw err;
            const delay = backoffDelay(o.backoff, attempt, random());
            // A retry that could not even start before the deadline would only add load.
            if (ctx.deadline !== undefined && now() + delay >= ctx.deadline) throw err;
            const operation = clientTransport(ctx)?.operation ?? "";
            if (!budget.withdraw(o.budget)) {
              telemetry.count("retryBudgetExhausted", operation, "retry_budget_exhausted", {
                attempt,
              });
              throw err;
            }
            telemetry.count("retry", operation, "retry", {
              attempt: attempt + 1,
              "retry.delay_ms": Math.round(delay),
              "retry.code": fromError(err).code,
            });
            avoidLastNode(ctx);
            if (delay > 0) await sleep(delay, ctx.signal);
          }
        }
      };
  },
};

/** Whether a failed attempt may be sent again, apart from attempts, deadline and budget. */
function retryable(o: ResolvedRetryOptions, ctx: Context, err: unknown): boolean {
  if (ctx.signal.aborted) return false;
  const traits = callTraits(ctx);
  if (traits !== undefined && !traits.replayable) return false;
  // Never sent: safe to send again whatever the method, whatever the code.
  if (notSent(err)) return true;
  if (!o.codes.has(fromError(err).code)) return false;
  return o.nonIdempotent || traits?.idempotent === true;
}

/** Asks the node picker to try another node than the one the failed attempt went to. */
function avoidLastNode(ctx: Context): void {
  const endpoint = clientTransport(ctx)?.endpoint;
  if (endpoint === undefined || endpoint === "") return;
  try {
    avoidHost(ctx, new URL(endpoint).host);
  } catch {
    // Not a URL (a custom transport's endpoint): any node will do.
  }
}
