import type { Etcd3, IKeyValue, IWatchResponse, Watcher as EtcdWatch } from "etcd3";
import type { Logger } from "../../log/logger.js";
import type { ServiceInstance, Watcher } from "../registry.js";
import { retryDelay, sleep } from "./backoff.js";
import { decodeInstance } from "./codec.js";

/**
 * Turns stored values into instances. A value that is not an instance (someone else's key
 * under the prefix, a half-written tool's output) is skipped with one warning per value, not
 * one per read: watchers and getService read the same keys over and over.
 */
export class InstanceReader {
  readonly #logger: Logger;
  // `key@mod_revision` of the bad values already warned about.
  readonly #warned = new Set<string>();

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  read(kv: IKeyValue): ServiceInstance | undefined {
    const instance = decodeInstance(kv.value.toString("utf8"));
    if (!(instance instanceof Error)) return instance;
    const key = kv.key.toString("utf8");
    const id = `${key}@${kv.mod_revision}`;
    if (!this.#warned.has(id)) {
      this.#warned.add(id);
      this.#logger.warn({ key, err: instance.message }, "etcd registry: skipping a corrupt value");
    }
    return undefined;
  }

  /** Forgets the warnings about a deleted key, so the set does not grow forever. */
  forget(key: string): void {
    for (const id of this.#warned) if (id.startsWith(`${key}@`)) this.#warned.delete(id);
  }
}

/** What an {@link EtcdServiceWatcher} needs from the registry. */
export interface WatcherSettings {
  client: Etcd3;
  reader: InstanceReader;
  maxRetryDelay: number;
  callTimeout: number;
  /** Called once the watcher has stopped (the registry forgets it). */
  onStop: () => void;
}

/**
 * Watches the keys of one service. It lists the prefix, then watches it from the revision
 * after the listing, so no change falls between the two; etcd3 resumes a broken watch from the
 * last revision it saw, so missed deletes still arrive after an outage. When the watch is
 * cancelled by etcd (history compacted during a long outage) it lists and watches again.
 */
export class EtcdServiceWatcher implements Watcher {
  readonly #s: WatcherSettings;
  readonly #prefix: string;
  readonly #stop = new AbortController();
  // key -> instance, the state the lists are made of.
  readonly #instances = new Map<string, ServiceInstance>();
  #watch: EtcdWatch | undefined;
  #loaded = false;
  #lastPushed: string | undefined;
  #pending: ServiceInstance[] | undefined;
  #waiting: { resolve: (list: ServiceInstance[]) => void; reject: (err: Error) => void }[] = [];

  constructor(settings: WatcherSettings, prefix: string) {
    this.#s = settings;
    this.#prefix = prefix;
    void this.#start();
  }

  next(): Promise<ServiceInstance[]> {
    if (this.#stop.signal.aborted) return Promise.reject(new Error("watcher stopped"));
    const pending = this.#pending;
    if (pending !== undefined) {
      this.#pending = undefined;
      return Promise.resolve(pending);
    }
    return new Promise((resolve, reject) => this.#waiting.push({ resolve, reject }));
  }

  async stop(): Promise<void> {
    if (this.#stop.signal.aborted) return;
    this.#stop.abort();
    for (const w of this.#waiting) w.reject(new Error("watcher stopped"));
    this.#waiting = [];
    this.#s.onStop();
    await this.#cancelWatch();
  }

  /** Lists, then watches; retried with backoff until it works or the watcher stops. */
  async #start(): Promise<void> {
    const signal = this.#stop.signal;
    for (let failures = 0; !signal.aborted; failures++) {
      try {
        const res = await this.#s.client
          .getAll()
          .prefix(this.#prefix)
          .options({ deadline: Date.now() + this.#s.callTimeout })
          .exec();
        if (this.#stopped()) return;
        this.#instances.clear();
        for (const kv of res.kvs) this.#apply("Put", kv);
        this.#loaded = true;
        this.#push();
        this.#watchFrom(BigInt(res.header.revision) + 1n);
        return;
      } catch {
        // Not logged: the registrar logs etcd outages, and a watcher simply keeps its last list.
        await sleep(retryDelay(failures, 200, this.#s.maxRetryDelay), signal);
      }
    }
  }

  #watchFrom(revision: bigint): void {
    const watch = this.#s.client
      .watch()
      .prefix(this.#prefix)
      .startRevision(revision.toString())
      .watcher();
    this.#watch = watch;
    watch.on("data", (res: IWatchResponse) => {
      for (const event of res.events) this.#apply(event.type, event.kv);
      this.#push();
    });
    // Without an `error` listener the EventEmitter would throw and crash the process. etcd
    // cancels a watch whose start revision was compacted away: list and watch again.
    watch.on("error", () => {
      if (this.#watch !== watch) return;
      this.#watch = undefined;
      watch.removeAllListeners("data");
      void watch.cancel().catch(() => undefined);
      void this.#start();
    });
  }

  #apply(type: "Put" | "Delete", kv: IKeyValue): void {
    const key = kv.key.toString("utf8");
    if (type === "Delete") {
      this.#instances.delete(key);
      this.#s.reader.forget(key);
      return;
    }
    const instance = this.#s.reader.read(kv);
    // A corrupt overwrite of an instance's key removes the instance: its old value is stale.
    if (instance === undefined) this.#instances.delete(key);
    else this.#instances.set(key, instance);
  }

  /** Hands the current list to next(), unless it is the same as the last one handed out. */
  #push(): void {
    if (!this.#loaded || this.#stop.signal.aborted) return;
    const list = [...this.#instances.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, instance]) => instance);
    const json = JSON.stringify(list);
    if (json === this.#lastPushed) return;
    this.#lastPushed = json;
    const waiting = this.#waiting;
    this.#waiting = [];
    if (waiting.length === 0) this.#pending = list;
    else for (const w of waiting) w.resolve(structuredClone(list));
  }

  // A method, not `signal.aborted` inline: TypeScript keeps a narrowed `false` across awaits.
  #stopped(): boolean {
    return this.#stop.signal.aborted;
  }

  async #cancelWatch(): Promise<void> {
    const watch = this.#watch;
    this.#watch = undefined;
    if (watch === undefined) return;
    watch.removeAllListeners("data");
    await watch.cancel().catch(() => undefined);
  }
}
