import type { Namespace } from "etcd3";
import type { Logger } from "../log/logger.js";

/** What locks and elections share from their {@link EtcdSync} (defaults already applied). */
export interface SyncRuntime {
  /** The client scoped to the sync namespace. */
  readonly namespace: Namespace;
  readonly logger: Logger;
  /** The deadline of each etcd call, ms. */
  readonly callTimeout: number;
  /** The cap of the retry backoff, ms. */
  readonly maxRetryDelay: number;
  /** Lease TTL in seconds when a lock or election sets none. */
  readonly ttl: number;
  /** Aborts when the sync client closes: every wait ends, every holder's signal aborts. */
  readonly closed: AbortSignal;
  readonly outage: OutageLog;
  /**
   * Registers a holder (a held lock, a leadership) that `close()` must give up; returns the
   * function that unregisters it once the holder gave up by itself.
   */
  track(drop: () => Promise<void>): () => void;
  /**
   * Registers cleanup that runs in the background (a lease given back, a watch cancelled):
   * `close()` waits for it before closing the client, so nothing is left retrying on a timer.
   */
  settle(work: Promise<void>): void;
}

/**
 * Logging per outage, not per attempt: during an outage etcd3 fails a call (and a lock waiter
 * or a campaign retries) every few hundred ms, so one warning when etcd becomes unreachable and
 * one info line when it answers again.
 */
export class OutageLog {
  readonly #logger: Logger;
  #down = false;

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  /** Whether the last etcd call failed: a timed-out wait then reports 503, not 504. */
  get down(): boolean {
    return this.#down;
  }

  failed(what: string, err: unknown): void {
    if (this.#down) return;
    this.#down = true;
    this.#logger.warn(
      { what, err: err instanceof Error ? err.message : String(err) },
      "etcd unreachable, will keep trying",
    );
  }

  recovered(): void {
    if (!this.#down) return;
    this.#down = false;
    this.#logger.info({}, "etcd reachable again");
  }
}
