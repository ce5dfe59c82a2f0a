/**
 * A single-consumer async queue: a transport pushes incoming messages, a handler iterates them.
 * `onDrain` lets the producer resume a paused socket once the consumer catches up.
 */
export class AsyncQueue<T> implements AsyncIterable<T> {
  readonly #items: T[] = [];
  #waiter: { resolve: (r: IteratorResult<T>) => void; reject: (e: unknown) => void } | undefined;
  #done = false;
  #error: unknown;
  #failed = false;

  constructor(
    /** Above this many buffered items the producer should pause. */
    readonly highWaterMark = 16,
    readonly onDrain?: () => void,
  ) {}

  /** Adds an item; returns false when the producer should pause. */
  push(item: T): boolean {
    if (this.#done) return false;
    const waiter = this.#waiter;
    if (waiter !== undefined) {
      this.#waiter = undefined;
      waiter.resolve({ value: item, done: false });
      return true;
    }
    this.#items.push(item);
    return this.#items.length < this.highWaterMark;
  }

  /** Ends the stream after the buffered items. */
  end(): void {
    if (this.#done) return;
    this.#done = true;
    this.#settleWaiter();
  }

  /** Fails the stream: the consumer sees `error` after the buffered items. */
  fail(error: unknown): void {
    if (this.#done) return;
    this.#done = true;
    this.#failed = true;
    this.#error = error;
    this.#settleWaiter();
  }

  #settleWaiter(): void {
    const waiter = this.#waiter;
    if (waiter === undefined || this.#items.length > 0) return;
    this.#waiter = undefined;
    if (this.#failed) waiter.reject(this.#error);
    else waiter.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => {
        const item = this.#items.shift();
        if (item !== undefined || this.#items.length > 0) {
          if (this.#items.length === this.highWaterMark - 1) this.onDrain?.();
          return Promise.resolve({ value: item as T, done: false });
        }
        if (this.#done) {
          return this.#failed
            ? Promise.reject(
                this.#error instanceof Error ? this.#error : new Error(String(this.#error)),
              )
            : Promise.resolve({ value: undefined, done: true });
        }
        return new Promise<IteratorResult<T>>((resolve, reject) => {
          this.#waiter = { resolve, reject };
          this.onDrain?.();
        });
      },
      return: () => {
        this.#done = true;
        this.#items.length = 0;
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}
