import { withTimeout } from "../internal/with-timeout.js";
import { abortableSleep } from "../internal/abortable-sleep.js";
import { retryDelay } from "../registry/etcd/backoff.js";
import { etcdUnavailable, isOutage, waitedTooLong } from "./errors.js";
import type { SyncRuntime } from "./runtime.js";

/**
 * The limits of one wait (an `acquire`, a `campaign`) as a single signal: the caller's signal,
 * the wait's timeout and the sync client's close, whichever comes first; and the retry between
 * tries. The timeout's reason is built when it fires: 503 `ETCD_UNAVAILABLE` when etcd was not
 * answering then, else 504 with `timeoutReason`.
 */
export class WaitLimit {
  readonly signal: AbortSignal;
  readonly #rt: SyncRuntime;
  readonly #what: string;
  readonly #timer: NodeJS.Timeout | undefined;

  constructor(
    rt: SyncRuntime,
    what: string,
    limits: { signal?: AbortSignal | undefined; timeout: number },
    timeoutReason: string,
  ) {
    this.#rt = rt;
    this.#what = what;
    const own = new AbortController();
    const signals = [own.signal, rt.closed];
    if (limits.signal !== undefined) signals.push(limits.signal);
    this.signal = AbortSignal.any(signals);
    const ms = limits.timeout;
    if (Number.isFinite(ms)) {
      this.#timer = setTimeout(() => {
        own.abort(
          rt.outage.down
            ? etcdUnavailable(what, new Error(`still unreachable after ${ms} ms`))
            : waitedTooLong(timeoutReason, what, ms),
        );
      }, ms);
    }
  }

  /**
   * After failed try number `attempt`: rethrows the wait's own end, logs an etcd outage (once
   * per outage), then waits out the capped backoff.
   */
  async backOff(err: unknown, attempt: number): Promise<void> {
    if (this.signal.aborted) throw this.signal.reason;
    if (isOutage(err)) this.#rt.outage.failed(this.#what, err);
    await abortableSleep(retryDelay(attempt, 100, this.#rt.maxRetryDelay), this.signal);
  }

  /** What the wait rejects with: the limit's reason once it ended, else `err`. */
  failure(err: unknown): unknown {
    return this.signal.aborted ? this.signal.reason : err;
  }

  /** Stops the timer; call when the wait is over, whatever its outcome. */
  dispose(): void {
    clearTimeout(this.#timer);
  }
}

/**
 * `promise`, or a rejection with the signal's reason as soon as it aborts. The work goes on:
 * the caller cleans up after it (a lease granted late is revoked, a watcher cancelled).
 */
export function race<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      reject(signal.reason as Error);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(err);
      },
    );
  });
}

/**
 * An etcd call bounded by `ms`: etcd3 retries an unreachable host for far longer than a lock
 * caller can wait. Any failure becomes 503 `ETCD_UNAVAILABLE` naming `what`.
 */
export async function etcdCall<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  try {
    return await withTimeout(work, ms, `no answer within ${ms} ms`);
  } catch (err) {
    throw etcdUnavailable(what, err);
  }
}
