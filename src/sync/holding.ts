import { withTimeout } from "../internal/with-timeout.js";
import { sessionLost } from "./errors.js";
import type { LeaseGuard } from "./lease-guard.js";
import type { SyncRuntime } from "./runtime.js";
import { etcdCall, race } from "./wait.js";

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

/**
 * `giveBack` run at most once, however many paths (release, loss, close, a failed attempt)
 * call it; its promise is registered for the sync client's `close()`.
 */
export function once(rt: SyncRuntime, giveBack: () => Promise<void>): () => Promise<void> {
  let given: Promise<void> | undefined;
  return () => {
    if (given === undefined) {
      given = giveBack();
      rt.settle(given);
    }
    return given;
  };
}

/**
 * Reads the fencing token (the create revision of `key`, which must carry `leaseId`) while the
 * guard watches the lease. On any failure the guard ends and the lease is given back: the
 * caller tries again or gives up, holding nothing.
 */
export async function readFencingToken(
  rt: SyncRuntime,
  what: string,
  guard: LeaseGuard,
  signal: AbortSignal,
  giveBack: () => Promise<void>,
  keyOf: () => Promise<{ key: string; leaseId: string }>,
): Promise<bigint> {
  try {
    const read = async () => {
      const { key, leaseId } = await keyOf();
      const res = await rt.namespace
        .get(key)
        .options({ deadline: Date.now() + rt.callTimeout })
        .exec();
      const kv = res.kvs[0];
      // Gone or someone else's: the lease expired between the put and this read.
      if (kv?.lease !== leaseId) throw sessionLost(what, "expired while being acquired");
      return BigInt(kv.create_revision);
    };
    return await race(
      etcdCall(read(), rt.callTimeout, what),
      AbortSignal.any([signal, guard.signal]),
    );
  } catch (err) {
    guard.end();
    void giveBack();
    throw err;
  }
}

/**
 * Gives a lease back (`release` revokes it), bounded by the call timeout. A failure only delays
 * the next holder until the lease expires, so it is logged, never thrown: release and resign
 * run in `finally` blocks and shutdowns.
 */
export async function giveBackLease(
  rt: SyncRuntime,
  release: () => Promise<void>,
  fields: Record<string, string>,
  consequence: string,
): Promise<void> {
  const ms = rt.callTimeout;
  try {
    await withTimeout(Promise.resolve().then(release), ms, `no answer within ${ms} ms`);
  } catch (err) {
    rt.logger.warn(
      { ...fields, err: err instanceof Error ? err.message : String(err) },
      consequence,
    );
  }
}
