/**
 * Per-key state of a local limiter, bounded in memory. Keys often come from request values
 * (a header, a user id), so state that has returned to its initial value is dropped in a sweep
 * that runs at most once per `sweepEvery` ms of the limiter's clock (from `take`: no timer, so an
 * injected clock drives it too), and past `maxKeys` the oldest key is forgotten.
 */
export class KeyTable<S> {
  readonly #map = new Map<string, S>();
  readonly #maxKeys: number;
  readonly #sweepEvery: number;
  readonly #idle: (state: S, now: number) => boolean;
  #nextSweep = Number.NEGATIVE_INFINITY;

  /**
   * @param idle whether a state is back at its initial value at `now` (dropping it changes no
   *   decision).
   */
  constructor(maxKeys: number, sweepEvery: number, idle: (state: S, now: number) => boolean) {
    this.#maxKeys = Math.max(1, Math.floor(maxKeys));
    this.#sweepEvery = sweepEvery;
    this.#idle = idle;
  }

  /** The state of `key`, sweeping first when a sweep is due. */
  get(key: string, now: number): S | undefined {
    if (now >= this.#nextSweep) this.#sweep(now);
    return this.#map.get(key);
  }

  /** Adds the state of a new key, forgetting the oldest key when the table is full. */
  add(key: string, state: S): void {
    if (this.#map.size >= this.#maxKeys) {
      const oldest = this.#map.keys().next();
      if (oldest.done !== true) this.#map.delete(oldest.value);
    }
    this.#map.set(key, state);
  }

  /** How many keys hold state (for tests and stats). */
  get size(): number {
    return this.#map.size;
  }

  #sweep(now: number): void {
    this.#nextSweep = now + this.#sweepEvery;
    for (const [key, state] of this.#map) if (this.#idle(state, now)) this.#map.delete(key);
  }
}
