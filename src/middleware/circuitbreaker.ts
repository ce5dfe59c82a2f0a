import type { MeterProvider } from "@opentelemetry/api";
import type { Context } from "../context.js";
import { KratosError } from "../errors/error.js";
import { fromError } from "../errors/from-error.js";
import { reasons } from "../errors/reasons.js";
import { callOutcome } from "../internal/call-outcome.js";
import { clientTransport, serverTransport } from "../transport/transport.js";
import { resilienceTelemetry } from "../internal/resilience-telemetry.js";
import { RollingCounts } from "../internal/rolling-counts.js";
import type { Middleware } from "./middleware.js";

/**
 * A circuit breaker: asked before each call, told how each allowed call went. Implement it to
 * plug another algorithm into {@link circuitBreaker.client} (option `breakerFor`).
 */
export interface Breaker {
  /** True when the call may go out; false rejects it locally. */
  allow(): boolean;
  /** The backend accepted the call (it answered, even with a 4xx). */
  markSuccess(): void;
  /** The call failed (500, 503, 504, transport failure) or was rejected locally. */
  markFailure(): void;
}

/** The breaker of {@link createSreBreaker}: a {@link Breaker} that can tell its odds. */
export interface SreBreaker extends Breaker {
  /** The probability that `allow()` rejects a call now, in [0, 1). */
  rejectProbability(): number;
}

/** Options of {@link createSreBreaker}; every field has a default. */
export interface SreBreakerOptions {
  /**
   * The multiplier K: the client lets through up to K times the calls the backend accepts
   * before it starts rejecting. Lower is more aggressive; at least 1. Default 1.5 (the SRE book
   * suggests 2; Go Kratos uses 1 / 0.6).
   */
  k?: number;
  /** The length of the rolling window in ms. Default 10 000 (Go Kratos: 3 000). */
  window?: number;
  /** How many buckets the window is cut into: the granularity of forgetting. Default 10. */
  buckets?: number;
  /** Below this many requests in the window nothing is rejected. Default 100 (as Kratos). */
  minRequests?: number;
  /** The clock, in ms. Default `performance.now`. Inject one for tests. */
  now?: () => number;
  /** A uniform random number in [0, 1). Default `Math.random`. Inject one for tests. */
  random?: () => number;
}

const defaults: Required<SreBreakerOptions> = {
  k: 1.5,
  window: 10_000,
  buckets: 10,
  minRequests: 100,
  now: () => performance.now(),
  random: Math.random,
};

function resolve(options: SreBreakerOptions): Required<SreBreakerOptions> {
  // `??` also turns an explicit `undefined` (from spreading partial configs) into the default.
  const o: Required<SreBreakerOptions> = {
    k: options.k ?? defaults.k,
    window: options.window ?? defaults.window,
    buckets: options.buckets ?? defaults.buckets,
    minRequests: options.minRequests ?? defaults.minRequests,
    now: options.now ?? defaults.now,
    random: options.random ?? defaults.random,
  };
  if (!(o.k >= 1) || !Number.isFinite(o.k))
    throw new RangeError(`sre breaker: k ${o.k} is not a finite number >= 1`);
  if (!(o.window > 0) || !Number.isFinite(o.window))
    throw new RangeError(`sre breaker: window ${o.window} is not a positive number of ms`);
  if (!Number.isInteger(o.buckets) || o.buckets < 1)
    throw new RangeError(`sre breaker: buckets ${o.buckets} is not a positive integer`);
  if (!(o.minRequests >= 0))
    throw new RangeError(`sre breaker: minRequests ${o.minRequests} is not >= 0`);
  return o;
}

/**
 * Google SRE adaptive throttling ("Handling Overload", Site Reliability Engineering ch. 21), as
 * Go Kratos's default breaker (aegis `sre`): over a rolling window the client counts `requests`
 * (every call it attempted, including the ones it rejected itself) and `accepts` (calls the
 * backend answered), and rejects a call with probability
 * `max(0, (requests - K * accepts) / (requests + 1))`, never while `requests < minRequests`.
 * There is no open/closed state to get stuck in: as failures age out of the window the
 * probability falls by itself, and the calls that still get through probe the backend.
 */
export function createSreBreaker(options: SreBreakerOptions = {}): SreBreaker {
  const o = resolve(options);
  const counts = new RollingCounts(o.window, o.buckets, o.now);
  const rejectProbability = (): number => {
    const { total: requests, marked: accepts } = counts.sum();
    if (requests < o.minRequests) return 0;
    return Math.max(0, (requests - o.k * accepts) / (requests + 1));
  };
  return {
    rejectProbability,
    allow() {
      const p = rejectProbability();
      return p <= 0 || o.random() >= p;
    },
    markSuccess() {
      counts.add(true);
    },
    markFailure() {
      counts.add(false);
    },
  };
}

/** Options of {@link circuitBreaker.client}: the SRE breaker's, or your own breakers. */
export interface CircuitBreakerClientOptions extends SreBreakerOptions {
  /**
   * Creates the breaker of an operation, once, on its first call. Default: an SRE breaker
   * ({@link createSreBreaker}) with the other options; when set, those options are ignored.
   */
  breakerFor?: (operation: string) => Breaker;
  /** The name for the metrics' `rule` label and span events. Default "". */
  name?: string;
  /** Where rejections are counted. Default: the global meter provider. */
  meterProvider?: MeterProvider;
}

/**
 * Options of {@link circuitBreaker.server}: the SRE breaker's settings (plain data) plus how
 * breakers are keyed and named.
 */
export interface CircuitBreakerServerOptions extends Omit<SreBreakerOptions, "now" | "random"> {
  /**
   * `operation` (the default): one breaker per operation, so one failing method does not close
   * the others. `rule`: one breaker for every call through this middleware.
   */
  scope?: "operation" | "rule";
  /** The rule's name, for the metrics' `rule` label and span events. Default "". */
  name?: string;
}

/**
 * What {@link circuitBreaker.server} runs on beside its options: state to keep across a change
 * of the options, and seams for tests. Not config.
 */
export interface CircuitBreakerServerRuntime {
  /**
   * The breakers by key (operation, or `*` for `scope: "rule"`). Pass the map of the
   * middleware being replaced to keep their history when the breaker settings did not change;
   * with new settings, start a new map. Default: a new map.
   */
  breakers?: Map<string, Breaker>;
  /** Creates the breaker of a key. Default: an SRE breaker with the options' settings. */
  breakerFor?: (key: string) => Breaker;
  /** The SRE breakers' clock in ms. Default `performance.now`. */
  now?: () => number;
  /** The SRE breakers' random numbers in [0, 1). Default `Math.random`. */
  random?: () => number;
  /** Default: the global meter provider. */
  meterProvider?: MeterProvider;
}

// Checked as strings: options may come from config, where the type promised nothing.
const scopes: ReadonlySet<string> = new Set(["operation", "rule"]);

/**
 * What a failed server call says about the operation's health: 5xx (handler failures, its own
 * deadline passing: 504) are failures, a client that went away says nothing, the rest (4xx) are
 * the caller's business.
 */
function serverOutcome(ctx: Context, err: unknown): "success" | "failure" | "ignore" {
  let code = fromError(err).code;
  if (code === 499 && ctx.signal.aborted) code = fromError(ctx.signal.reason).code;
  if (code === 499) return "ignore";
  return code >= 500 ? "failure" : "success";
}

/**
 * Client circuit breaker (Kratos `circuitbreaker.Client`): one breaker per operation, created
 * lazily, by default Google SRE adaptive throttling ({@link createSreBreaker}). A rejected call
 * fails at once with 503 reason `CIRCUITBREAKER`, without reaching the transport, and counts as
 * a failure, so that the rejection rate keeps up with a failing backend. 500, 503, 504 and
 * transport failures (refused connections, deadlines) are failures; other errors are the
 * backend's answers, so successes; cancellations by the caller count as neither. Streaming
 * calls are judged when the stream opens. Rejections are counted in
 * `client_breaker_rejected_total{operation, rule}` and mark the active span (`breaker_rejected`).
 *
 * Breakers are keyed by operation only: give each client its own middleware instance when two
 * clients call the same operation on different backends.
 */
export const circuitBreaker = {
  client(options: CircuitBreakerClientOptions = {}): Middleware {
    const { breakerFor: custom, name = "", meterProvider, ...sre } = options;
    // Checks the options now, not on the first call.
    if (custom === undefined) resolve(sre);
    const breakerFor = custom ?? (() => createSreBreaker(sre));
    const breakers = new Map<string, Breaker>();
    const telemetry = resilienceTelemetry(name, meterProvider);
    return (next) =>
      async function circuitBreakerClient(ctx, req) {
        const operation = clientTransport(ctx)?.operation ?? "";
        let breaker = breakers.get(operation);
        if (breaker === undefined) {
          breaker = breakerFor(operation);
          breakers.set(operation, breaker);
        }
        if (!breaker.allow()) {
          breaker.markFailure();
          telemetry.count("clientBreakerRejected", operation, "breaker_rejected");
          throw new KratosError(
            503,
            reasons.circuitBreaker,
            "request failed due to circuit breaker triggered",
          );
        }
        let reply: unknown;
        try {
          reply = await next(ctx, req);
        } catch (err) {
          const result = callOutcome(ctx, err);
          if (result === "failure") breaker.markFailure();
          else if (result === "success") breaker.markSuccess();
          throw err;
        }
        breaker.markSuccess();
        return reply;
      };
  },

  /**
   * Server circuit breaker (go-zero `breakerhandler`): one SRE breaker per operation, created
   * on its first call. While an operation keeps failing (5xx, including its own deadline), the
   * breaker rejects a growing share of its calls with 503 reason `CIRCUITBREAKER` before the
   * handler runs, so a broken dependency behind one method stops tying up the server, and the
   * calls still let through find out when it recovers. A rejection counts as a failure (as the
   * client breaker and go-zero do), in `server_breaker_rejected_total{operation, rule}`, and
   * marks the active span (`breaker_rejected`).
   */
  server(
    options: CircuitBreakerServerOptions = {},
    runtime: CircuitBreakerServerRuntime = {},
  ): Middleware {
    const { scope = "operation", name = "", ...settings } = options;
    if (!scopes.has(scope))
      throw new RangeError(
        `circuit breaker: scope ${JSON.stringify(scope)} is not "operation" or "rule"`,
      );
    const sre: SreBreakerOptions = {
      ...settings,
      ...(runtime.now === undefined ? {} : { now: runtime.now }),
      ...(runtime.random === undefined ? {} : { random: runtime.random }),
    };
    resolve(sre);
    const breakerFor = runtime.breakerFor ?? (() => createSreBreaker(sre));
    const breakers = runtime.breakers ?? new Map<string, Breaker>();
    const telemetry = resilienceTelemetry(name, runtime.meterProvider);
    return (next) =>
      async function circuitBreakerServer(ctx, req) {
        const operation = serverTransport(ctx)?.operation ?? "";
        const key = scope === "rule" ? "*" : operation;
        let breaker = breakers.get(key);
        if (breaker === undefined) {
          breaker = breakerFor(key);
          breakers.set(key, breaker);
        }
        if (!breaker.allow()) {
          breaker.markFailure();
          telemetry.count("breakerRejected", operation, "breaker_rejected");
          throw new KratosError(
            503,
            reasons.circuitBreaker,
            `service unavailable: the circuit breaker of ${operation} is open`,
          );
        }
        let reply: unknown;
        try {
          reply = await next(ctx, req);
        } catch (err) {
          const result = serverOutcome(ctx, err);
          if (result === "failure") breaker.markFailure();
          else if (result === "success") breaker.markSuccess();
          throw err;
        }
        breaker.markSuccess();
        return reply;
      };
  },
};
