/** Tunables of {@link NodeStats}, in milliseconds. */
export interface EwmaOptions {
  /** The decay time of the moving averages (Kratos: 600 ms; half-life = tau * ln 2). */
  tau: number;
}

// Kratos adds 5 ms "to eliminate the latency gap between different zones": it keeps a 1 ms and
// a 2 ms node from looking twice as different as they are.
const zoneGap = 5;
// The load of a node without latency data. Huge, so a node with data always wins a comparison;
// new nodes still get probed through p2c's forced picks (they count as idle since forever).
const penalty = 1e7;
// Success is a per-mille rate, as in Kratos.
const fullSuccess = 1000;

/**
 * The call statistics of one node for p2c, Kratos's `node/ewma`: exponentially weighted moving
 * averages of latency and success, plus the calls in flight.
 */
export class NodeStats {
  readonly #tau: number;
  /** EWMA latency in ms; 0 until the first call ends. */
  #lag = 0;
  /** EWMA success per mille. */
  #success = fullSuccess;
  /** Calls in flight plus one, so the load of an idle node is its latency, not 0. */
  #inflight = 1;
  /** Start times of the calls in flight, to notice a node that stopped answering. */
  readonly #starts = new Set<{ start: number }>();
  /** When the last call ended; undefined before the first. */
  #stamp: number | undefined;
  /** When the node was last picked; undefined if never. */
  #lastPick: number | undefined;

  constructor(options: EwmaOptions) {
    this.#tau = options.tau;
  }

  /** Records a pick at `now`; returns the token to give to {@link done}. */
  pick(now: number): { start: number } {
    this.#lastPick = now;
    this.#inflight++;
    const token = { start: now };
    this.#starts.add(token);
    return token;
  }

  /** Records the end of the call `token`, `latency` ms after its pick, failed or not. */
  done(token: { start: number }, now: number, latency: number, failed: boolean): void {
    if (!this.#starts.delete(token)) return;
    this.#inflight--;
    const elapsed = this.#stamp === undefined ? 0 : Math.max(0, now - this.#stamp);
    this.#stamp = now;
    // The weight of history decays with the time since the last sample, not the sample count,
    // so a burst after a quiet period is not drowned by stale data. The first sample is taken as
    // is (Kratos does the same).
    const w = this.#lag === 0 ? 0 : Math.exp(-elapsed / this.#tau);
    this.#lag = this.#lag * w + Math.max(0, latency) * (1 - w);
    this.#success = this.#success * w + (failed ? 0 : fullSuccess) * (1 - w);
  }

  /** Milliseconds since the last pick; Infinity when never picked. */
  idle(now: number): number {
    return this.#lastPick === undefined ? Infinity : now - this.#lastPick;
  }

  /**
   * The node's score; higher is better: success / (sqrt(latency + 5 ms) * (inflight + 1)). The
   * square root (Kratos's) keeps latency from dominating inflight and success.
   */
  score(now: number): number {
    if (this.#lag === 0) return this.#success / (penalty * this.#inflight);
    const lag = Math.max(this.#lag, this.#predict(now));
    return this.#success / (Math.sqrt(lag + zoneGap) * this.#inflight);
  }

  /**
   * When most calls in flight are already older than the average latency, the node has slowed
   * down (or hangs) before any of them ended to say so: use their mean age as the latency.
   */
  #predict(now: number): number {
    let count = 0;
    let total = 0;
    for (const { start } of this.#starts) {
      const age = now - start;
      if (age > this.#lag) {
        count++;
        total += age;
      }
    }
    return count > Math.floor(this.#starts.size / 2) + 1 ? total / count : 0;
  }
}
