// Rolling-window counts shared by the SRE breaker and the retry budget.

/**
 * Two counts over the last `window` ms: every event (`total`) and the events added as `marked`
 * (the SRE breaker's requests and accepts; the retry budget's calls and retries). Buckets are
 * aligned on multiples of the bucket length, so what a bucket holds depends only on the clock,
 * never on call timing.
 */
export class RollingCounts {
  readonly #bucketMs: number;
  readonly #total: number[];
  readonly #marked: number[];
  readonly #now: () => number;
  #last: number;

  constructor(window: number, buckets: number, now: () => number) {
    this.#bucketMs = window / buckets;
    this.#total = new Array<number>(buckets).fill(0);
    this.#marked = new Array<number>(buckets).fill(0);
    this.#now = now;
    this.#last = this.#bucketId();
  }

  add(marked: boolean): void {
    const i = this.#advance();
    this.#total[i] = (this.#total[i] ?? 0) + 1;
    if (marked) this.#marked[i] = (this.#marked[i] ?? 0) + 1;
  }

  /** The totals of the window. */
  sum(): { total: number; marked: number } {
    this.#advance();
    let total = 0;
    let marked = 0;
    for (let i = 0; i < this.#total.length; i++) {
      total += this.#total[i] ?? 0;
      marked += this.#marked[i] ?? 0;
    }
    return { total, marked };
  }

  #bucketId(): number {
    return Math.floor(this.#now() / this.#bucketMs);
  }

  /** Clears the buckets the clock has moved past; returns the index of the current one. */
  #advance(): number {
    const n = this.#total.length;
    const id = this.#bucketId();
    // A clock that steps back (a wall clock adjusted) keeps counting into the newest bucket.
    if (id > this.#last) {
      const stale = Math.min(id - this.#last, n);
      for (let s = 1; s <= stale; s++) {
        const i = mod(this.#last + s, n);
        this.#total[i] = 0;
        this.#marked[i] = 0;
      }
      this.#last = id;
    }
    return mod(this.#last, n);
  }
}

function mod(a: number, n: number): number {
  return ((a % n) + n) % n;
}
