import { setTimeout as delay } from "node:timers/promises";

/**
 * The wait before retry number `attempt` (0-based): exponential from `baseMs`, capped at
 * `maxMs`, with "equal jitter" (half fixed, half random) so that many instances cut off by
 * the same etcd outage do not all come back in the same millisecond, yet none retries at once.
 */
export function retryDelay(
  attempt: number,
  baseMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  // 2 ** 30 already exceeds any sane cap; clamping the exponent keeps the number finite.
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + (ceiling / 2) * random());
}

/**
 * Waits `ms`, or less when `signal` aborts (then resolves, it does not throw: every loop
 * checks its signal after waiting). The timer is unref'd: a registry retrying in the
 * background must not keep a process alive that has nothing else to do.
 */
export async function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return;
  try {
    await delay(ms, undefined, { signal, ref: false });
  } catch (err) {
    if (!(err instanceof Error && err.name === "AbortError")) throw err;
  }
}

/**
 * A backoff in the shape etcd3 (cockatiel's `IBackoff`) asks for in
 * `faultHandling.watchBackoff`: the watch stream reconnects after 100 ms, then doubling up to
 * `maxMs`. etcd3's default can wait ~9 s after etcd is back before a watch resumes.
 */
export class WatchBackoff {
  readonly duration: number;
  readonly #attempt: number;
  readonly #maxMs: number;

  constructor(maxMs: number, attempt = 0) {
    this.#maxMs = maxMs;
    this.#attempt = attempt;
    this.duration = retryDelay(attempt, 100, maxMs);
  }

  next(): WatchBackoff {
    return new WatchBackoff(this.#maxMs, this.#attempt + 1);
  }
}
