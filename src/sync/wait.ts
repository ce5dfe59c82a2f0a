import { withTimeout } from "../internal/with-timeout.js";
import { etcdUnavailable } from "./errors.js";

/**
 * The limits of one wait (an `acquire`, a `campaign`) as a single signal: the caller's signal,
 * the wait's timeout and the sync client's close, whichever comes first. The timeout's reason
 * is built when it fires, so it can say whether etcd was reachable at that moment.
 */
export class WaitLimit {
  readonly signal: AbortSignal;
  readonly #timer: NodeJS.Timeout | undefined;

  constructor(
    limits: { signal?: AbortSignal | undefined; timeout: number; closed: AbortSignal },
    onTimeout: () => unknown,
  ) {
    const own = new AbortController();
    const signals = [own.signal, limits.closed];
    if (limits.signal !== undefined) signals.push(limits.signal);
    this.signal = AbortSignal.any(signals);
    if (Number.isFinite(limits.timeout)) {
      this.#timer = setTimeout(() => {
        own.abort(onTimeout());
      }, limits.timeout);
    }
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
