import type { MeterProvider } from "@opentelemetry/api";
import type { Context } from "../context.js";
import { KratosError } from "../errors/error.js";
import { reasons } from "../errors/reasons.js";
import { resilienceTelemetry } from "../internal/resilience-telemetry.js";
import type { ResilienceTelemetry } from "../internal/resilience-telemetry.js";
import { serverTransport } from "../transport/transport.js";
import type { Middleware } from "./middleware.js";

/** Options of {@link bulkhead.server}: plain data, durations in ms. */
export interface BulkheadOptions {
  /** Most calls running at once per compartment; an integer >= 1. Required. */
  maxConcurrent: number;
  /** Most calls waiting for a slot per compartment, served first come first served. Default 0: no queue. */
  maxQueue?: number;
  /**
   * Longest wait in the queue, in ms; a call still waiting then is rejected. The call's deadline
   * bounds it too. Default 1 000.
   */
  maxWait?: number;
  /**
   * `operation` (the default): one compartment per operation. `rule`: one compartment for every
   * call through this middleware (all the operations a rule matches share its cap).
   */
  scope?: "operation" | "rule";
  /** The rule's name, for the metrics' `rule` label, span events and the error message. Default "". */
  name?: string;
}

/**
 * What {@link bulkhead.server} runs on beside its options: state to keep across a change of the
 * options, and a seam for metrics. Not config.
 */
export interface BulkheadRuntime {
  /**
   * The compartments (in-flight counts and queues). Pass the one of the middleware being
   * replaced, whatever changed in the options: calls in flight keep their slots, queued calls
   * keep their place, and the new caps apply from the next admission. Default: new state.
   */
  state?: BulkheadState;
  /** Default: the global meter provider. */
  meterProvider?: MeterProvider;
}

/** The in-flight counts and queues of a bulkhead, by compartment key. */
export interface BulkheadState {
  /** Calls running in the compartment `key` (an operation, or `*` for a rule's). */
  inFlight(key: string): number;
  /** Calls waiting in the compartment `key`. */
  queued(key: string): number;
}

/** The defaults of {@link BulkheadOptions}. */
export const bulkheadDefaults = {
  maxQueue: 0,
  maxWait: 1_000,
  scope: "operation",
  name: "",
} as const;

interface Waiter {
  admit(): void;
}

interface Compartment {
  inFlight: number;
  // Insertion-ordered: the first waiter is the oldest, and one that leaves is deleted in O(1).
  readonly queue: Set<Waiter>;
}

class Compartments implements BulkheadState {
  readonly #byKey = new Map<string, Compartment>();

  get(key: string): Compartment {
    let c = this.#byKey.get(key);
    if (c === undefined) {
      c = { inFlight: 0, queue: new Set() };
      this.#byKey.set(key, c);
    }
    return c;
  }

  inFlight(key: string): number {
    return this.#byKey.get(key)?.inFlight ?? 0;
  }

  queued(key: string): number {
    return this.#byKey.get(key)?.queue.size ?? 0;
  }
}

/** Creates empty bulkhead state, to share between the bulkheads of one rule over time. */
export function createBulkheadState(): BulkheadState {
  return new Compartments();
}

type Resolved = Required<BulkheadOptions>;

// Checked as strings: options may come from config, where the type promised nothing.
const scopes: ReadonlySet<string> = new Set(["operation", "rule"]);

function resolve(options: BulkheadOptions): Resolved {
  const o: Resolved = {
    maxConcurrent: options.maxConcurrent,
    maxQueue: options.maxQueue ?? bulkheadDefaults.maxQueue,
    maxWait: options.maxWait ?? bulkheadDefaults.maxWait,
    scope: options.scope ?? bulkheadDefaults.scope,
    name: options.name ?? bulkheadDefaults.name,
  };
  if (!Number.isInteger(o.maxConcurrent) || o.maxConcurrent < 1)
    throw new RangeError(`bulkhead: maxConcurrent ${o.maxConcurrent} is not an integer >= 1`);
  if (!Number.isInteger(o.maxQueue) || o.maxQueue < 0)
    throw new RangeError(`bulkhead: maxQueue ${o.maxQueue} is not an integer >= 0`);
  if (!(o.maxWait >= 0) || !Number.isFinite(o.maxWait))
    throw new RangeError(`bulkhead: maxWait ${o.maxWait} is not a finite number of ms >= 0`);
  if (!scopes.has(o.scope))
    throw new RangeError(`bulkhead: scope ${JSON.stringify(o.scope)} is not "operation" or "rule"`);
  return o;
}

/**
 * Concurrency limits on the server (go-chassis bulkhead, go-zero `maxconns` per route): at most
 * `maxConcurrent` calls of a compartment run at once; the next `maxQueue` wait in order for a
 * slot, each at most `maxWait` ms and never past its deadline; the rest are answered at once
 * with 429 reason `BULKHEAD_FULL` (gRPC RESOURCE_EXHAUSTED). A waiting call whose client went
 * away or whose deadline passed leaves the queue at once with that error. A slot that frees
 * up goes to the oldest waiter directly, so a newcomer cannot overtake the queue.
 *
 * Rejections count in `server_bulkhead_rejected_total{operation, rule, cause}` (`full`,
 * `wait`), queued calls in `server_bulkhead_queued_total` and their wait in
 * `server_bulkhead_queue_seconds`; both mark the active span.
 */
export const bulkhead = {
  server(options: BulkheadOptions, runtime: BulkheadRuntime = {}): Middleware {
    const o = resolve(options);
    const state = runtime.state ?? createBulkheadState();
    if (!(state instanceof Compartments))
      throw new TypeError("bulkhead: state must come from createBulkheadState");
    const telemetry = resilienceTelemetry(o.name, runtime.meterProvider);
    return (next) =>
      async function bulkhead(ctx, req) {
        const operation = serverTransport(ctx)?.operation ?? "";
        const c = state.get(o.scope === "rule" ? "*" : operation);
        // Waiters first: a cap raised by a config change admits them before any newcomer.
        if (c.queue.size > 0) admit(o, c);
        if (c.inFlight < o.maxConcurrent && c.queue.size === 0) {
          c.inFlight++;
        } else {
          await wait(o, c, ctx, operation, telemetry);
        }
        try {
          return await next(ctx, req);
        } finally {
          release(o, c);
        }
      };
  },
};

/** Frees a slot: the oldest waiter takes it over, if any fits under the current cap. */
function release(o: Resolved, c: Compartment): void {
  c.inFlight--;
  admit(o, c);
}

/** Hands free slots to the oldest waiters. */
function admit(o: Resolved, c: Compartment): void {
  while (c.inFlight < o.maxConcurrent) {
    const first = c.queue.values().next();
    if (first.done === true) return;
    c.queue.delete(first.value);
    c.inFlight++;
    first.value.admit();
  }
}

/** Queues the call until a slot is its own; rejects when full, on the wait limit or the signal. */
function wait(
  o: Resolved,
  c: Compartment,
  ctx: Context,
  operation: string,
  telemetry: ResilienceTelemetry,
): Promise<void> {
  const label = o.name === "" ? operation : `rule ${o.name}`;
  if (c.queue.size >= o.maxQueue) {
    telemetry.count("bulkheadRejected", operation, "bulkhead_rejected", { cause: "full" });
    return Promise.reject(
      new KratosError(
        429,
        reasons.bulkheadFull,
        `too many concurrent requests: ${o.maxConcurrent} running and ${o.maxQueue} waiting for ${label}`,
      ),
    );
  }
  const signal = ctx.signal;
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  telemetry.count("bulkheadQueued", operation, "bulkhead_queued", { queued: c.queue.size + 1 });
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const leave = (err: Error) => {
      c.queue.delete(waiter);
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
      telemetry.queued(operation, performance.now() - start);
      reject(err);
    };
    const onAbort = () => {
      leave(signal.reason as Error);
    };
    const waiter: Waiter = {
      admit() {
        clearTimeout(timer);
        signal.removeEventListener("abort", onAbort);
        telemetry.queued(operation, performance.now() - start);
        resolve();
      },
    };
    // The deadline aborts the signal, which ends the wait by itself: maxWait only needs a timer
    // when it comes first.
    const remaining = ctx.deadline === undefined ? Infinity : ctx.deadline - Date.now();
    const timer =
      o.maxWait < remaining
        ? setTimeout(() => {
            telemetry.count("bulkheadRejected", operation, "bulkhead_rejected", { cause: "wait" });
            leave(
              new KratosError(
                429,
                reasons.bulkheadFull,
                `waited ${o.maxWait} ms for one of ${o.maxConcurrent} slots of ${label}`,
              ),
            );
          }, o.maxWait)
        : undefined;
    signal.addEventListener("abort", onAbort, { once: true });
    c.queue.add(waiter);
  });
}
