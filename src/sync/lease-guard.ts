import type { EventEmitter } from "node:events";
import { sessionLost } from "./errors.js";

/**
 * Watches one lease and aborts `signal` no later than etcd can expire it. etcd sets a lease's
 * expiry to (the moment it handles a grant or keep-alive) + TTL; that moment is after the
 * request left this process, so "send time of the newest acknowledged keep-alive + TTL" is a
 * lower bound of the expiry the client can compute alone, without trusting etcd's clock. The
 * guard aborts at that bound minus a small margin for timer lateness, whether etcd is down or
 * this process is cut off from it; a keep-alive answer that says the lease is gone (revoked, or
 * expired while etcd was away) aborts at once.
 *
 * Once aborted, the holder must stop acting: a new holder can be granted the lock as soon as
 * etcd expires the lease, and that is never earlier than this signal. A process paused past the
 * bound (a long GC, SIGSTOP) can only learn it late: that is what the fencing token is for.
 */
export class LeaseGuard {
  readonly #controller = new AbortController();
  readonly #ttlMs: number;
  readonly #margin: number;
  readonly #what: string;
  readonly #onLost: () => void;
  // Send times of the keep-alives in flight on the current stream; answers come back in order.
  #inFlight: number[] = [];
  #confirmed: number;
  #timer: NodeJS.Timeout | undefined;
  readonly #off: () => void;

  /**
   * @param lease etcd3's `Lease`: only its events are used (`keepaliveEstablished`,
   *   `keepaliveFired`, `keepaliveSucceeded`, `lost`).
   * @param since when the lease grant was sent (at the latest): the first lower bound.
   * @param onLost runs once when the lease is lost (not on {@link end}), to give it up in etcd.
   */
  constructor(
    lease: EventEmitter,
    ttlSeconds: number,
    since: number,
    what: string,
    onLost: () => void,
  ) {
    this.#ttlMs = ttlSeconds * 1000;
    // Timers fire late on a busy loop; a tenth of the TTL, at most 500 ms, absorbs that.
    this.#margin = Math.min(500, this.#ttlMs / 10);
    this.#what = what;
    this.#onLost = onLost;
    this.#confirmed = since;
    const established = () => {
      this.#inFlight = [];
    };
    const fired = () => {
      this.#inFlight.push(Date.now());
    };
    const succeeded = () => {
      const sent = this.#inFlight.shift();
      if (sent !== undefined && sent > this.#confirmed) {
        this.#confirmed = sent;
        this.#schedule();
      }
    };
    const lost = (err: Error) => {
      this.lose("etcd says the lease is gone", err);
    };
    lease.on("keepaliveEstablished", established);
    lease.on("keepaliveFired", fired);
    lease.on("keepaliveSucceeded", succeeded);
    lease.on("lost", lost);
    this.#off = () => {
      lease.off("keepaliveEstablished", established);
      lease.off("keepaliveFired", fired);
      lease.off("keepaliveSucceeded", succeeded);
      lease.off("lost", lost);
    };
    this.#schedule();
  }

  /** Aborts with 503 `SESSION_LOST` when the lease is lost; with an `AbortError` after {@link end}. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** The moment (epoch ms) by which the signal aborts unless a keep-alive is acknowledged. */
  get validUntil(): number {
    return this.#confirmed + this.#ttlMs - this.#margin;
  }

  /** Declares the lease lost (also used when etcd3 reports the campaign failed). */
  lose(why: string, cause?: unknown): void {
    if (this.#controller.signal.aborted) return;
    this.#stop();
    this.#controller.abort(sessionLost(this.#what, why, cause));
    this.#onLost();
  }

  /** The holder gave the lease up (release, resign): abort with a plain `AbortError`. */
  end(): void {
    if (this.#controller.signal.aborted) return;
    this.#stop();
    this.#controller.abort();
  }

  #stop(): void {
    clearTimeout(this.#timer);
    this.#off();
  }

  #schedule(): void {
    clearTimeout(this.#timer);
    const wait = Math.max(0, this.validUntil - Date.now());
    this.#timer = setTimeout(() => {
      this.lose(`no keep-alive acknowledged for its TTL (${this.#ttlMs} ms)`);
    }, wait);
    // etcd3's keep-alive timers hold the process while a lease is alive; this one need not.
    this.#timer.unref();
  }
}
