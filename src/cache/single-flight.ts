// Single flight (Go's x/sync/singleflight, go-zero's syncx.SingleFlight): concurrent calls for
// one key share one run of the work, so a cold or just-expired hot key sends one load to the
// database however many requests arrive at once (cache breakdown).

/** Runs work once per key at a time; see the file comment. */
export interface SingleFlight {
  /**
   * `work()`'s promise, shared with every call for `key` made before it settles; the next call
   * after that runs `work` again.
   */
  do<T>(key: string, work: () => Promise<T>): Promise<T>;
  /** Whether `key` has work in flight (a call now would join it). */
  has(key: string): boolean;
  /** How many keys have work in flight. */
  size(): number;
}

/** Creates an empty {@link SingleFlight}. */
export function singleFlight(): SingleFlight {
  const flights = new Map<string, Promise<unknown>>();
  return {
    do<T>(key: string, work: () => Promise<T>): Promise<T> {
      const running = flights.get(key);
      // The map holds only promises made by this function for this key, with this T.
      if (running !== undefined) return running as Promise<T>;
      let flight: Promise<T>;
      try {
        flight = work();
      } catch (err) {
        // A loader that throws synchronously fails its callers the same way as a rejection.
        flight = Promise.reject(err instanceof Error ? err : new Error(String(err)));
      }
      flights.set(key, flight);
      // Registered before any caller's continuation, so the key is free again when they resume;
      // callers get `flight` itself (no derived promise, one tick less on the hit path).
      const done = () => {
        flights.delete(key);
      };
      flight.then(done, done);
      return flight;
    },
    has: (key) => flights.has(key),
    size: () => flights.size,
  };
}
