import { Election } from "etcd3";
import { withTimeout } from "../internal/with-timeout.js";
import { retryDelay, sleep } from "../registry/etcd/backoff.js";
import type { SyncRuntime } from "./runtime.js";
import { etcdCall, race } from "./wait.js";

/** Options of {@link LeaderElection.observe}. */
export interface ObserveOptions {
  /** Called with each new leader value (undefined: no leader), the first known value included. */
  onChange?: (leader: string | undefined) => void;
  /** Closes the observer when it aborts. */
  signal?: AbortSignal;
}

/**
 * Follows an election's leader. Iterate it (`for await (const leader of observer)`) to get the
 * current leader once known, then each change; several loops may iterate it at once, and a
 * slow loop skips to the newest value rather than queueing old ones. While etcd is unreachable
 * the observer keeps the last known leader and reconnects with backoff.
 */
export interface LeaderObserver extends AsyncIterable<string | undefined> {
  /** The last known leader's value: undefined when there is none, or before etcd first answered. */
  readonly leader: string | undefined;
  /** Stops observing; loops over the observer end. */
  close(): Promise<void>;
}

/**
 * An observer that watches the election's keys and, on every change, asks etcd3's
 * `Election.leader()` (the candidate with the oldest key). Not etcd3's `observe()`: when
 * several candidates' keys arrive in one watch response while it has no leader, it takes the
 * last one, not the oldest, and then follows the wrong key (seen here: observers reporting a
 * standby as leader).
 */
export class EtcdLeaderObserver implements LeaderObserver {
  readonly #rt: SyncRuntime;
  readonly #election: Election;
  readonly #onChange: ((leader: string | undefined) => void) | undefined;
  readonly #stop = new AbortController();
  readonly #loop: Promise<void>;
  readonly #untrack: () => void;
  readonly #wakers = new Set<() => void>();
  #leader: string | undefined;
  // Bumped on every change; each iterator remembers the version it last yielded.
  #version = 0;
  // A read in flight, and whether another change came in meanwhile.
  #reading: Promise<void> | undefined;
  #stale = false;

  constructor(rt: SyncRuntime, election: Election, options: ObserveOptions) {
    this.#rt = rt;
    this.#election = election;
    this.#onChange = options.onChange;
    const stops = [rt.closed];
    if (options.signal !== undefined) stops.push(options.signal);
    const stop = AbortSignal.any(stops);
    const abort = () => {
      this.#stop.abort();
    };
    if (stop.aborted) abort();
    else stop.addEventListener("abort", abort, { once: true });
    this.#loop = this.#run();
    this.#untrack = rt.track(() => this.close());
  }

  get leader(): string | undefined {
    return this.#leader;
  }

  async close(): Promise<void> {
    this.#stop.abort();
    this.#untrack();
    await this.#loop;
  }

  [Symbol.asyncIterator](): AsyncIterator<string | undefined> {
    let seen = 0;
    return {
      next: async () => {
        while (this.#version === seen && !this.#stop.signal.aborted) {
          await new Promise<void>((resolve) => this.#wakers.add(resolve));
        }
        if (this.#stop.signal.aborted) return { value: undefined, done: true };
        seen = this.#version;
        return { value: this.#leader, done: false };
      },
      return: () => Promise.resolve({ value: undefined, done: true }),
    };
  }

  async #run(): Promise<void> {
    const rt = this.#rt;
    const what = `observer of election ${this.#election.name}`;
    const stop = this.#stop.signal;
    for (let failures = 0; !this.#stopped();) {
      // Watch first, then read: a change in between is not missed.
      const watcher = rt.namespace
        .watch()
        .prefix(`${Election.prefix}/${this.#election.name}/`)
        .watcher();
      const refresh = () => {
        this.#refresh(what);
      };
      watcher.on("put", refresh);
      watcher.on("delete", refresh);
      // After an outage the watch resumes by itself; read again in case it missed a change.
      watcher.on("connected", refresh);
      let onStop: () => void = () => undefined;
      const failed = new Promise<boolean>((resolve) => {
        // Fatal for this watcher (etcd cancelled it): start over.
        watcher.on("error", () => {
          resolve(true);
        });
        onStop = () => {
          resolve(false);
        };
        stop.addEventListener("abort", onStop, { once: true });
      });
      try {
        const connected = new Promise<void>((resolve) => {
          watcher.once("connected", () => {
            resolve();
          });
        });
        await race(etcdCall(connected, rt.callTimeout, what), stop);
        failures = 0;
        rt.outage.recovered();
        if (await failed) await sleep(retryDelay(failures++, 100, rt.maxRetryDelay), stop);
      } catch (err) {
        if (!this.#stopped()) {
          rt.outage.failed(what, err);
          await sleep(retryDelay(failures++, 100, rt.maxRetryDelay), stop);
        }
      } finally {
        stop.removeEventListener("abort", onStop);
        watcher.removeAllListeners();
        watcher.on("error", () => undefined);
        await withTimeout(watcher.cancel(), rt.callTimeout, "cancel").catch(() => undefined);
      }
    }
    await this.#reading;
    for (const wake of this.#wakers) wake();
    this.#wakers.clear();
  }

  /** Reads the leader now, or once more after the read in flight. Failures keep the last value. */
  #refresh(what: string): void {
    if (this.#reading !== undefined) {
      this.#stale = true;
      return;
    }
    this.#reading = (async () => {
      do {
        this.#stale = false;
        try {
          this.#set(await etcdCall(this.#election.leader(), this.#rt.callTimeout, what));
        } catch (err) {
          // The watch reconnects after an outage and triggers a new read.
          this.#rt.outage.failed(what, err);
        }
      } while (this.#readAgain());
      this.#reading = undefined;
    })();
  }

  // Methods, not the fields inline: TypeScript keeps a narrowed `false` across awaits.
  #readAgain(): boolean {
    return this.#stale && !this.#stopped();
  }

  #stopped(): boolean {
    return this.#stop.signal.aborted;
  }

  #set(leader: string | undefined): void {
    if (this.#stopped() || (this.#version > 0 && leader === this.#leader)) return;
    this.#leader = leader;
    this.#version++;
    try {
      this.#onChange?.(leader);
    } catch (err) {
      // The caller's bug, not an etcd outage: logged as such, and the observer goes on.
      this.#rt.logger.error({ err }, "leader observer: onChange threw");
    }
    for (const wake of this.#wakers) wake();
    this.#wakers.clear();
  }
}
