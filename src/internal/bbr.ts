import { performance } from "node:perf_hooks";

/** One admitted call: report its end with `done()` (once; later calls are ignored). */
export interface Admission {
  done(): void;
}

/** Decides whether a call may run: an {@link Admission}, or `undefined` to shed it. */
export interface Limiter {
  allow(): Admission | undefined;
}

/** Options of {@link createBbrLimiter}; every field is optional. */
export interface BbrOptions {
  /** The sliding window over which throughput and latency are taken, in ms. Default 10000. */
  window?: number;
  /** Buckets in the window. Default 100 (100 ms each with the default window). */
  buckets?: number;
  /** Utilization (0..1) from which the process counts as overloaded. Default 0.8. */
  threshold?: number;
  /**
   * For this many ms after the last drop, calls above the limit are still shed although
   * utilization has fallen, so the limiter does not flap at the threshold. Default 1000.
   */
  coolOff?: number;
  /**
   * The overload signal, 0..1. Default: a process-wide, smoothed event-loop utilization
   * sampler (see {@link createUtilizationSampler}).
   */
  utilization?: () => number;
  /** The clock, in ms. Default `performance.now`. */
  now?: () => number;
}

/** What a BBR limiter sees now (Kratos `Stat`). */
export interface BbrStats {
  /** The overload signal, 0..1. */
  utilization: number;
  /** Admitted calls not yet released. */
  inFlight: number;
  /** The in-flight limit that applies while overloaded: ceil(maxPass x minRT). */
  maxInFlight: number;
  /** The lowest average response time of a bucket in the window, in ms. */
  minRt: number;
  /** The most calls completed in one bucket of the window. */
  maxPass: number;
}

/** A BBR limiter: a {@link Limiter} that also reports its {@link BbrStats}. */
export interface BbrLimiter extends Limiter {
  stats(): BbrStats;
}

/** Options of {@link createUtilizationSampler}; every field is optional. */
export interface UtilizationSamplerOptions {
  /** How often to sample, in ms. Default 250. */
  interval?: number;
  /** Weight of the previous value in the moving average, 0..1 (Kratos uses 0.95). Default 0.5. */
  decay?: number;
  /**
   * Also sample the process's CPU time (one core = 1, capped at 1); the signal is then the
   * larger of the two. Default false: event-loop utilization alone.
   */
  cpu?: boolean;
}

/** A running sampler of the overload signal. */
export interface UtilizationSampler {
  /** The smoothed signal, 0..1; detachable: `utilization: sampler.value`. */
  readonly value: () => number;
  /** Stops sampling; `value()` keeps its last result. */
  readonly close: () => void;
}

const defaults = {
  window: 10_000,
  buckets: 100,
  threshold: 0.8,
  coolOff: 1000,
  interval: 250,
  decay: 0.5,
  cpu: false,
} as const;

/**
 * Samples event-loop utilization (and optionally process CPU) on an unref'd interval, smoothed
 * like Kratos's CPU stat: `value = value * decay + sample * (1 - decay)`. Node's overload shows
 * as a busy event loop rather than busy cores: one core at 100% is already saturation.
 */
export function createUtilizationSampler(
  options: UtilizationSamplerOptions = {},
): UtilizationSampler {
  const interval = options.interval ?? defaults.interval;
  const decay = options.decay ?? defaults.decay;
  const withCpu = options.cpu ?? defaults.cpu;
  let value = 0;
  let elu = performance.eventLoopUtilization();
  let cpu = process.cpuUsage();
  let at = performance.now();
  const timer = setInterval(() => {
    const nextElu = performance.eventLoopUtilization();
    let sample = performance.eventLoopUtilization(nextElu, elu).utilization;
    elu = nextElu;
    if (withCpu) {
      const nextCpu = process.cpuUsage();
      const nextAt = performance.now();
      const busyMs = (nextCpu.user - cpu.user + nextCpu.system - cpu.system) / 1000;
      if (nextAt > at) sample = Math.max(sample, Math.min(1, busyMs / (nextAt - at)));
      cpu = nextCpu;
      at = nextAt;
    }
    value = value * decay + sample * (1 - decay);
  }, interval);
  // A limiter must never be the reason a process stays alive.
  timer.unref();
  return {
    value: () => value,
    close: () => {
      clearInterval(timer);
    },
  };
}

let shared: UtilizationSampler | undefined;

/** The process-wide default signal: one sampler however many limiters use it. */
function sharedUtilization(): number {
  shared ??= createUtilizationSampler();
  return shared.value();
}

/** Completed calls and their response times per bucket of a sliding window. */
class RollingStats {
  readonly #size: number;
  readonly #span: number;
  /** The absolute bucket number each slot holds (-1: never used). */
  readonly #ids: Float64Array;
  readonly #pass: Float64Array;
  readonly #rtSum: Float64Array;
  #cachedAt = -1;
  #maxPass = 1;
  #minRt = Infinity;

  constructor(window: number, buckets: number) {
    this.#size = buckets;
    this.#span = window / buckets;
    this.#ids = new Float64Array(buckets).fill(-1);
    this.#pass = new Float64Array(buckets);
    this.#rtSum = new Float64Array(buckets);
  }

  /** The absolute number of the bucket `now` falls in. */
  bucketAt(now: number): number {
    return Math.floor(now / this.#span);
  }

  add(now: number, rt: number): void {
    const id = this.bucketAt(now);
    const slot = id % this.#size;
    if (this.#ids[slot] !== id) {
      this.#ids[slot] = id;
      this.#pass[slot] = 0;
      this.#rtSum[slot] = 0;
    }
    this.#pass[slot] = (this.#pass[slot] ?? 0) + 1;
    this.#rtSum[slot] = (this.#rtSum[slot] ?? 0) + rt;
  }

  /** Max completed calls per bucket and min average response time, over the full buckets. */
  reduce(now: number): { maxPass: number; minRt: number } {
    const current = this.bucketAt(now);
    // Both only change when a bucket closes, as in Kratos's per-bucket caches.
    if (current !== this.#cachedAt) {
      let maxPass = 1;
      let minRt = Infinity;
      for (let slot = 0; slot < this.#size; slot++) {
        const id = this.#ids[slot] ?? -1;
        // The current bucket is still filling: its low count would drag maxPass down.
        if (id < 0 || id >= current || id <= current - this.#size) continue;
        const pass = this.#pass[slot] ?? 0;
        if (pass === 0) continue;
        maxPass = Math.max(maxPass, pass);
        minRt = Math.min(minRt, (this.#rtSum[slot] ?? 0) / pass);
      }
      this.#cachedAt = current;
      this.#maxPass = maxPass;
      this.#minRt = minRt;
    }
    return { maxPass: this.#maxPass, minRt: this.#minRt };
  }
}

/**
 * Kratos's BBR adaptive limiter, adapted to Node. While the process is overloaded (utilization
 * at or above the threshold, or a drop happened within the cool-off), a call is shed when more
 * than one call, and more than ceil(maxPass x minRT) calls, are in flight: maxPass is the most
 * calls completed in one bucket of the window (a rate), minRT the lowest average response time
 * of a bucket, so their product is the concurrency the service sustains without queueing.
 *
 * The Node part: a call stays in flight until the event loop turns after it completes. Calls
 * handled back to back in one turn were all waiting when the turn began (their queueing is in
 * the loop, where no counter sees it); released at once, a synchronous handler would never
 * show more than one call in flight, and nothing would ever be shed.
 */
export function createBbrLimiter(options: BbrOptions = {}): BbrLimiter {
  return new Bbr(options);
}

class Bbr implements BbrLimiter {
  readonly #stats: RollingStats;
  readonly #bucketsPerSecond: number;
  readonly #threshold: number;
  readonly #coolOff: number;
  readonly #utilization: () => number;
  readonly #now: () => number;
  #inFlight = 0;
  /** Completed calls that leave the in-flight count when the loop turns. */
  #settling = 0;
  #settleScheduled = false;
  #lastDrop: number | undefined;

  constructor(options: BbrOptions) {
    const window = options.window ?? defaults.window;
    const buckets = options.buckets ?? defaults.buckets;
    if (!(window > 0) || !Number.isInteger(buckets) || buckets < 1) {
      throw new RangeError(`bbr: window (${window}) and buckets (${buckets}) must be positive`);
    }
    this.#stats = new RollingStats(window, buckets);
    this.#bucketsPerSecond = (buckets * 1000) / window;
    this.#threshold = options.threshold ?? defaults.threshold;
    this.#coolOff = options.coolOff ?? defaults.coolOff;
    this.#utilization = options.utilization ?? sharedUtilization;
    this.#now = options.now ?? (() => performance.now());
  }

  allow(): Admission | undefined {
    const start = this.#now();
    if (this.#shouldDrop(start)) return undefined;
    this.#inFlight++;
    let finished = false;
    return {
      done: () => {
        if (finished) return;
        finished = true;
        const end = this.#now();
        this.#stats.add(end, end - start);
        this.#settling++;
        if (!this.#settleScheduled) {
          this.#settleScheduled = true;
          // setImmediate runs after the poll phase, i.e. once every call that was ready in
          // this turn has been handled.
          setImmediate(this.#settle);
        }
      },
    };
  }

  stats(): BbrStats {
    const now = this.#now();
    const { maxPass, minRt } = this.#stats.reduce(now);
    return {
      utilization: this.#utilization(),
      inFlight: this.#inFlight,
      maxInFlight: this.#maxInFlight(now),
      minRt,
      maxPass,
    };
  }

  readonly #settle = (): void => {
    this.#inFlight -= this.#settling;
    this.#settling = 0;
    this.#settleScheduled = false;
  };

  #maxInFlight(now: number): number {
    const { maxPass, minRt } = this.#stats.reduce(now);
    // No response time yet: nothing is known to be sustainable, so nothing is limited.
    if (minRt === Infinity) return Infinity;
    return Math.ceil((maxPass * this.#bucketsPerSecond * minRt) / 1000);
  }

  #overLimit(now: number): boolean {
    return this.#inFlight > 1 && this.#inFlight > this.#maxInFlight(now);
  }

  #shouldDrop(now: number): boolean {
    if (this.#utilization() < this.#threshold) {
      if (this.#lastDrop === undefined) return false;
      if (now - this.#lastDrop <= this.#coolOff) return this.#overLimit(now);
      this.#lastDrop = undefined;
      return false;
    }
    const drop = this.#overLimit(now);
    // From the last drop, not the first as in Kratos: after a long overload Kratos's cool-off
    // has already expired when utilization falls, and the limiter flaps at the threshold.
    if (drop) this.#lastDrop = now;
    return drop;
  }
}
