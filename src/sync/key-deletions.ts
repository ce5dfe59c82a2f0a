import type { Namespace, Watcher } from "etcd3";
import { withTimeout } from "../internal/with-timeout.js";
import { etcdCall } from "./wait.js";

/**
 * Wakes a lock waiter when the lock's key is deleted (released, or its lease expired), so the
 * next holder gets in within a round trip instead of a poll interval. etcd3's `Lock` only
 * tries once; this is the wait between tries.
 */
export class KeyDeletions {
  #watcher: Watcher | undefined;
  #deleted = false;
  #wake: (() => void) | undefined;

  /** Whether {@link start} succeeded. */
  get started(): boolean {
    return this.#watcher !== undefined;
  }

  /** Watches `key` for deletes; resolves once etcd confirmed the watch (within `ms`). */
  async start(namespace: Namespace, key: string, ms: number): Promise<void> {
    const watcher = namespace.watch().key(key).only("delete").watcher();
    // Without an `error` listener the EventEmitter would throw; a broken watch only costs
    // latency, since every wait also ends after its fallback interval.
    watcher.on("error", () => undefined);
    watcher.on("delete", () => {
      this.#deleted = true;
      this.#wake?.();
    });
    const connected = new Promise<void>((resolve) =>
      watcher.once("connected", () => {
        resolve();
      }),
    );
    try {
      await etcdCall(connected, ms, `watch of ${key}`);
    } catch (err) {
      this.#watcher = watcher;
      throw err;
    }
    this.#watcher = watcher;
  }

  /**
   * Resolves after a delete seen since the last call, or after `fallbackMs` (a watch that
   * reconnects may miss one); rejects with the signal's reason when it aborts.
   */
  next(signal: AbortSignal, fallbackMs: number): Promise<void> {
    if (signal.aborted) return Promise.reject(signal.reason as Error);
    if (this.#deleted) {
      this.#deleted = false;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener("abort", onAbort);
        this.#wake = undefined;
        this.#deleted = false;
      };
      const onAbort = () => {
        done();
        reject(signal.reason as Error);
      };
      const timer = setTimeout(() => {
        done();
        resolve();
      }, fallbackMs);
      this.#wake = () => {
        done();
        resolve();
      };
      signal.addEventListener("abort", onAbort, { once: true });
    });
  }

  /**
   * Cancels the watch; the promise is for the sync client's `close()`, not the waiter. Bounded
   * by `ms`: etcd3's cancel waits for the stream's end, which never comes during a partition.
   */
  close(ms: number): Promise<void> {
    const watcher = this.#watcher;
    this.#watcher = undefined;
    this.#wake = undefined;
    if (watcher === undefined) return Promise.resolve();
    return withTimeout(watcher.cancel(), ms, "watch cancel").catch(() => undefined);
  }
}
