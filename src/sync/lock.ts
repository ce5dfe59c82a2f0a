import { EtcdLockFailedError } from "etcd3";
import type { Lock } from "etcd3";
import { reasons } from "../errors/reasons.js";
import { withTimeout } from "../internal/with-timeout.js";
import { Holding, giveBackLease, once, readFencingToken } from "./holding.js";
import { KeyDeletions } from "./key-deletions.js";
import { leaseOf } from "./etcd3-internals.js";
import { LeaseGuard } from "./lease-guard.js";
import type { SyncRuntime } from "./runtime.js";
import { WaitLimit, etcdCall, race } from "./wait.js";

/** Options of {@link EtcdSync.lock}. */
export interface LockOptions {
  /**
   * The lease TTL in seconds: how long the lock outlives a holder that crashed or was cut off
   * from etcd, and the longest a holder can keep acting after losing it. Default: the sync
   * client's `ttl` (15).
   */
  ttl?: number;
}

/** Options of {@link DistributedLock.acquire}. */
export interface AcquireOptions {
  /** Ends the wait: `acquire` rejects with the signal's reason. */
  signal?: AbortSignal;
  /**
   * The longest `acquire` waits, in ms, before it rejects with 504 `LOCK_TIMEOUT` (503
   * `ETCD_UNAVAILABLE` when etcd was not answering). Default 30 000.
   */
  timeout?: number;
}

/** A lock held in etcd; see {@link DistributedLock.acquire}. */
export interface HeldLock {
  /** The lock's name. */
  readonly name: string;
  /**
   * etcd's revision at the moment this holder got the lock (the lock key's create revision).
   * Every later holder of the same lock gets a larger one, so a store that remembers the
   * largest token it has seen can refuse writes from a holder that lost the lock and does not
   * know yet (a paused process, a partition).
   */
  readonly fencingToken: bigint;
  /**
   * Aborts when the lock is no longer held: with 503 `SESSION_LOST` when its lease is lost
   * (etcd unreachable for the TTL, the lease revoked or expired, the sync client closed), no
   * later than etcd can hand the lock to another holder; with an `AbortError` after `release()`.
   * Pass it to the work done under the lock.
   */
  readonly signal: AbortSignal;
  /**
   * Releases the lock (revokes its lease). Never throws: when etcd cannot be reached the lock
   * frees itself when its lease expires, within the TTL, and a warning says so. Idempotent.
   */
  release(): Promise<void>;
}

/** A named lock in etcd; see {@link EtcdSync.lock}. */
export interface DistributedLock {
  /** The lock's name. */
  readonly name: string;
  /**
   * Waits until this caller holds the lock. Each call is a separate holder with its own lease:
   * the lock is not reentrant. Rejects with 504 `LOCK_TIMEOUT` when others held it for the
   * whole `timeout`, 503 `ETCD_UNAVAILABLE` when etcd did not answer, the signal's reason when
   * `signal` aborts, and 503 `SESSION_LOST` when the sync client closes.
   */
  acquire(options?: AcquireOptions): Promise<HeldLock>;
  /**
   * Runs `fn` holding the lock and releases it after, whatever `fn` does. `fn` gets the
   * {@link HeldLock}: pass its `signal` on and its `fencingToken` to the store.
   */
  run<T>(fn: (held: HeldLock) => Promise<T> | T, options?: AcquireOptions): Promise<T>;
}

const defaultAcquireTimeout = 30_000;
// A waiter retries at least this often even without a delete event (a watch that reconnected
// may have missed one).
const fallbackPoll = 1_000;

/** The etcd3 lock under `lock/<name>` of the sync namespace, with waiting, TTL and fencing. */
export class EtcdLock implements DistributedLock {
  readonly name: string;
  readonly #rt: SyncRuntime;
  readonly #key: string;
  readonly #ttl: number;

  constructor(rt: SyncRuntime, name: string, options: LockOptions) {
    this.#rt = rt;
    this.name = name;
    this.#key = `lock/${name}`;
    this.#ttl = options.ttl ?? rt.ttl;
    if (!Number.isInteger(this.#ttl) || this.#ttl < 1) {
      throw new RangeError(`lock ${name}: ttl must be a whole number of seconds >= 1`);
    }
  }

  async acquire(options: AcquireOptions = {}): Promise<HeldLock> {
    const rt = this.#rt;
    const timeout = options.timeout ?? defaultAcquireTimeout;
    const limit = new WaitLimit(
      rt,
      `lock ${this.name}`,
      { signal: options.signal, timeout },
      reasons.lockTimeout,
    );
    const deletions = new KeyDeletions();
    try {
      for (let failures = 0; ;) {
        // A wait that already ended starts no etcd call (and grants no lease).
        if (limit.signal.aborted) throw limit.signal.reason;
        try {
          const held = await this.#attempt(limit.signal);
          rt.outage.recovered();
          failures = 0;
          if (held !== undefined) return held;
          if (!deletions.started) {
            // Watch first, then try again: the holder may have released in between.
            await race(deletions.start(rt.namespace, this.#key, rt.callTimeout), limit.signal);
            continue;
          }
          await deletions.next(limit.signal, fallbackPoll);
        } catch (err) {
          await limit.backOff(err, failures++);
        }
      }
    } catch (err) {
      throw limit.failure(err);
    } finally {
      limit.dispose();
      rt.settle(deletions.close(rt.callTimeout));
    }
  }

  async run<T>(fn: (held: HeldLock) => Promise<T> | T, options?: AcquireOptions): Promise<T> {
    const held = await this.acquire(options);
    try {
      return await fn(held);
    } finally {
      await held.release();
    }
  }

  /** One try: the held lock, or undefined when someone else holds it. */
  async #attempt(signal: AbortSignal): Promise<HeldLock | undefined> {
    const rt = this.#rt;
    const what = `lock ${this.name}`;
    const since = Date.now();
    const lock = rt.namespace.lock(this.#key).ttl(this.#ttl);
    lock.options({ deadline: since + rt.callTimeout });
    const acquiring = lock.acquire().then(
      () => true,
      (err: unknown) => {
        // etcd3 revoked the lease itself when the key was taken.
        if (err instanceof EtcdLockFailedError) return false;
        throw err;
      },
    );
    const giveBack = once(rt, () => this.#giveBack(lock));
    try {
      if (!(await race(etcdCall(acquiring, rt.callTimeout, what), signal))) return undefined;
    } catch (err) {
      // Timed out or aborted: the grant may still land; give the lease back whenever it does.
      // close() waits for that, for one call timeout at most: etcd3 puts no deadline on the
      // grant itself, and a shutdown must not hang on it (a lease granted later expires).
      const givenBack = acquiring.catch(() => false).then(giveBack);
      rt.settle(withTimeout(givenBack, rt.callTimeout, "lease grant").catch(() => undefined));
      throw err;
    }
    const guard = new LeaseGuard(leaseOf(lock), this.#ttl, since, what, () => {
      void giveBack();
    });
    const fencingToken = await readFencingToken(rt, what, guard, signal, giveBack, async () => ({
      key: this.#key,
      leaseId: (await lock.leaseId()) ?? "",
    }));
    return new Held(this.name, fencingToken, guard, rt, giveBack);
  }

  /** Revokes the lock's lease; a failure only delays the next holder. */
  #giveBack(lock: Lock): Promise<void> {
    return giveBackLease(
      this.#rt,
      () => {
        // etcd3 revokes with the lock's call options: give it a deadline from now.
        lock.options({ deadline: Date.now() + this.#rt.callTimeout });
        return lock.release();
      },
      { lock: this.name },
      "could not release the lock in etcd; it frees itself when its lease expires",
    );
  }
}

class Held extends Holding implements HeldLock {
  readonly name: string;
  readonly fencingToken: bigint;

  constructor(
    name: string,
    fencingToken: bigint,
    guard: LeaseGuard,
    rt: SyncRuntime,
    giveBack: () => Promise<void>,
  ) {
    super(guard, rt, giveBack);
    this.name = name;
    this.fencingToken = fencingToken;
  }

  release(): Promise<void> {
    return this.end();
  }
}
