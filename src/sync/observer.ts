import type { Election, ElectionObserver } from "etcd3";
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

/** An observer on etcd3's `ElectionObserver`, restarted whenever that one fails. */
export class EtcdLeaderObserver implements LeaderObserver {
  readonly #rt: SyncRuntime;
  readonly #election: Election;
  readonly #onChange: ((leader: string | undefined) => void) | undefined;
  readonly #stop = new AbortController();
  readonly #loop: Promise<void>;
  readonly #wakers = new Set<() => void>();
  #leader: string | undefined;
  // Bumped on every change; each iterator remembers the version it last yielded.
  #version = 0;

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
  }

  get leader(): string | undefined {
    return this.#leader;
  }

  async close(): Promise<void> {
    this.#stop.abort();
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
    for (let failures = 0; !stop.aborted;) {
      const observing = this.#election.observe();
      let observer: ElectionObserver;
      try {
        observer = await race(etcdCall(observing, rt.callTimeout, what), stop);
      } catch (err) {
        // It may still start later: cancel it whenever it does.
        observing.then((late) => this.#cancel(late)).catch(() => undefined);
        if (this.#stopped()) break;
        rt.outage.failed(what, err);
        await sleep(retryDelay(failures++, 100, rt.maxRetryDelay), stop);
        continue;
      }
      failures = 0;
      rt.outage.recovered();
      this.#set(observer.leader());
      const failed = await new Promise<boolean>((resolve) => {
        const onStop = () => {
          resolve(false);
        };
        observer.on("change", (leader) => {
          this.#set(leader);
        });
        // Fatal for etcd3's observer (its loop ended, e.g. a read failed while etcd was down).
        observer.on("error", () => {
          stop.removeEventListener("abort", onStop);
          resolve(true);
        });
        stop.addEventListener("abort", onStop, { once: true });
      });
      await this.#cancel(observer);
      if (failed) await sleep(retryDelay(failures++, 100, rt.maxRetryDelay), stop);
    }
    for (const wake of this.#wakers) wake();
    this.#wakers.clear();
  }

  async #cancel(observer: ElectionObserver): Promise<void> {
    observer.removeAllListeners("change");
    // A cancel waits for etcd3's loop, which may sit in a read while etcd is away.
    const ms = this.#rt.callTimeout;
    await withTimeout(observer.cancel(), ms, "cancel").catch(() => undefined);
  }

  // A method, not `signal.aborted` inline: TypeScript keeps a narrowed `false` across awaits.
  #stopped(): boolean {
    return this.#stop.signal.aborted;
  }

  #set(leader: string | undefined): void {
    if (this.#version > 0 && leader === this.#leader) return;
    this.#leader = leader;
    this.#version++;
    this.#onChange?.(leader);
    for (const wake of this.#wakers) wake();
    this.#wakers.clear();
  }
}
