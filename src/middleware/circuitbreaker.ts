import { KratosError } from "../errors/error.js";
import { reasons } from "../errors/reasons.js";
import { callOutcome } from "../internal/call-outcome.js";
import { clientTransport } from "../transport/transport.js";
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
 * Request and accept counts over the last `window` ms, in buckets aligned on multiples of the
 * bucket length, so that what a bucket holds depends only on the clock, never on call timing.
 */
class RollingCounts {
  readonly #bucketMs: number;
  readonly #requests: number[];
  readonly #accepts: number[];
  readonly #now: () => number;
  #last: number;

  constructor(window: number, buckets: number, now: () => number) {
    this.#bucketMs = window / buckets;
    this.#requests = new Array<number>(buckets).fill(0);
    this.#accepts = new Array<number>(buckets).fill(0);
    this.#now = now;
    this.#last = this.#bucketId();
  }

  add(accepted: boolean): void {
    const i = this.#advance();
    this.#requests[i] = (this.#requests[i] ?? 0) + 1;
    if (accepted) this.#accepts[i] = (this.#accepts[i] ?? 0) + 1;
  }

  /** The totals of the window: requests and accepts. */
  sum(): { requests: number; accepts: number } {
    this.#advance();
    let requests = 0;
    let accepts = 0;
    for (let i = 0; i < this.#requests.length; i++) {
      requests += this.#requests[i] ?? 0;
      accepts += this.#accepts[i] ?? 0;
    }
    return { requests, accepts };
  }

  #bucketId(): number {
    return Math.floor(this.#now() / this.#bucketMs);
  }

  /** Clears the buckets the clock has moved past; returns the index of the current one. */
  #advance(): number {
    const n = this.#requests.length;
    const id = this.#bucketId();
    // A clock that steps back (a wall clock adjusted) keeps counting into the newest bucket.
    if (id > this.#last) {
      const stale = Math.min(id - this.#last, n);
      for (let s = 1; s <= stale; s++) {
        const i = mod(this.#last + s, n);
        this.#requests[i] = 0;
        this.#accepts[i] = 0;
      }
      this.#last = id;
    }
    return mod(this.#last, n);
  }
}

function mod(a: number, n: number): number {
  return ((a % n) + n) % n;
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
    const { requests, accepts } = counts.sum();
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
}

/**
 * Client circuit breaker (Kratos `circuitbreaker.Client`): one breaker per operation, created
 * lazily, by default Google SRE adaptive throttling ({@link createSreBreaker}). A rejected call
 * fails at once with 503 reason `CIRCUITBREAKER`, without reaching the transport, and counts as
 * a failure, so that the rejection rate keeps up with a failing backend. 500, 503, 504 and
 * transport failures (refused connections, deadlines) are failures; other errors are the
 * backend's answers, so successes; cancellations by the caller count as neither. Streaming
 * calls are judged when the stream opens.
 *
 * Breakers are keyed by operation only: give each client its own middleware instance when two
 * clients call the same operation on different backends.
 */
export const circuitBreaker = {
  client(options: CircuitBreakerClientOptions = {}): Middleware {
    const { breakerFor: custom, ...sre } = options;
    // Checks the options now, not on the first call.
    if (custom === undefined) resolve(sre);
    const breakerFor = custom ?? (() => createSreBreaker(sre));
    const breakers = new Map<string, Breaker>();
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
};
