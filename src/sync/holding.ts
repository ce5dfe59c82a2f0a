import type { LeaseGuard } from "./lease-guard.js";
import type { SyncRuntime } from "./runtime.js";

/**
 * What a held lock and a leadership share: the guard's signal, and giving the lease back once
 * (by the holder, or by the sync client's `close()`).
 */
export class Holding {
  readonly #guard: LeaseGuard;
  readonly #giveBack: () => Promise<void>;
  readonly #untrack: () => void;
  #ended: Promise<void> | undefined;

  constructor(guard: LeaseGuard, rt: SyncRuntime, giveBack: () => Promise<void>) {
    this.#guard = guard;
    this.#giveBack = giveBack;
    const drop = async () => {
      guard.lose("the sync client closed");
      await this.end();
    };
    this.#untrack = rt.track(drop);
    // Acquired while the client was closing: close() has already dropped the others.
    if (rt.closed.aborted) void drop();
  }

  /** The guard's signal: see `HeldLock.signal` and `Leadership.signal`. */
  get signal(): AbortSignal {
    return this.#guard.signal;
  }

  /** Gives the lease back; idempotent, never throws. */
  end(): Promise<void> {
    if (this.#ended === undefined) {
      this.#guard.end();
      this.#untrack();
      this.#ended = this.#giveBack();
    }
    return this.#ended;
  }
}
