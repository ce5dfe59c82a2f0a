/**
 * Coordination on etcd (go-micro's `sync`): distributed locks with a TTL and a fencing token,
 * and leader elections for singleton jobs, on etcd3's own `Lock` and `Election`. What the kit
 * adds: waits with a limit and a signal, typed errors, and a holder `signal` that aborts when
 * the lease is lost, no later than etcd can hand the lock or the leadership to someone else.
 *
 * @module
 */
import type { Etcd3 } from "etcd3";
import { createEtcdClient, defaultEtcdEndpoints } from "../internal/etcd-client.js";
import { discardLogger } from "../log/logger.js";
import type { Logger } from "../log/logger.js";
import { EtcdElection } from "./election.js";
import type { ElectionOptions, LeaderElection } from "./election.js";
import { EtcdLock } from "./lock.js";
import type { DistributedLock, LockOptions } from "./lock.js";
import { sessionLost } from "./errors.js";
import { cancelWatchers } from "./etcd3-internals.js";
import { OutageLog } from "./runtime.js";
import type { SyncRuntime } from "./runtime.js";

/** Options of {@link createEtcdSync}; every field is optional. */
export interface EtcdSyncOptions {
  /**
   * An etcd3 client to use. It stays the caller's: `close()` does not close it. Default: a
   * client of `endpoints`, closed by `close()`.
   */
  client?: Etcd3;
  /** etcd's client URLs when no `client` is given. Default `["http://127.0.0.1:2379"]`. */
  endpoints?: string[];
  /** The key prefix of locks (`<namespace>/lock/<name>`) and elections. Default `/kratos/sync`. */
  namespace?: string;
  /** The lease TTL in seconds of locks and elections that set none. Default 15. */
  ttl?: number;
  /** Where outages and failed releases are reported. Default: discarded. */
  logger?: Logger;
  /** The deadline of each etcd call in ms. Default 5 000. */
  callTimeout?: number;
  /** The cap of the retry backoff in ms (waiters, campaigns, observers). Default 5 000. */
  maxRetryDelay?: number;
}

/** Locks and elections on one etcd; see {@link createEtcdSync}. */
export interface EtcdSync {
  /** The lock `name` (the same name in every process is the same lock). Creating it calls nothing. */
  lock(name: string, options?: LockOptions): DistributedLock;
  /** The election `name` (the same name in every process is the same election). */
  election(name: string, options?: ElectionOptions): LeaderElection;
  /**
   * Ends every wait, gives up every held lock and leadership (their signals abort with 503
   * `SESSION_LOST`), stops observers, and closes the client if this created it. Idempotent.
   */
  close(): Promise<void>;
}

const defaults = {
  namespace: "/kratos/sync",
  ttl: 15,
  callTimeout: 5_000,
  maxRetryDelay: 5_000,
};

/**
 * Creates locks and elections on etcd. Nothing connects until a lock or election is used.
 *
 * ```ts
 * const sync = createEtcdSync({ endpoints: ["http://127.0.0.1:2379"] });
 * await sync.lock("invoices").run(async ({ signal, fencingToken }) => {
 *   await billAll({ signal, fencingToken });
 * });
 * ```
 */
export function createEtcdSync(options: EtcdSyncOptions = {}): EtcdSync {
  const ttl = options.ttl ?? defaults.ttl;
  if (!Number.isInteger(ttl) || ttl < 1) {
    throw new RangeError(`etcd sync: ttl must be a whole number of seconds >= 1, got ${ttl}`);
  }
  const maxRetryDelay = options.maxRetryDelay ?? defaults.maxRetryDelay;
  const client =
    options.client ?? createEtcdClient(options.endpoints ?? defaultEtcdEndpoints, maxRetryDelay);
  const closing = new AbortController();
  const holders = new Set<() => Promise<void>>();
  const pending = new Set<Promise<void>>();
  const logger = options.logger ?? discardLogger;
  // etcd3 namespaces join by plain concatenation: exactly one "/" between prefix and name.
  const prefix = `${(options.namespace ?? defaults.namespace).replace(/\/+$/, "")}/`;
  const rt: SyncRuntime = {
    namespace: client.namespace(prefix),
    logger,
    callTimeout: options.callTimeout ?? defaults.callTimeout,
    maxRetryDelay,
    ttl,
    closed: closing.signal,
    outage: new OutageLog(logger),
    track(drop) {
      holders.add(drop);
      return () => holders.delete(drop);
    },
    settle(work) {
      pending.add(work);
      const done = () => pending.delete(work);
      work.then(done, done);
    },
  };
  let closed: Promise<void> | undefined;
  return {
    lock: (name, lockOptions = {}) => new EtcdLock(rt, name, lockOptions),
    election: (name, electionOptions = {}) => new EtcdElection(rt, name, electionOptions),
    close() {
      closed ??= (async () => {
        closing.abort(sessionLost("etcd sync client", "closed"));
        await Promise.all([...holders].map((drop) => drop()));
        // Cleanup started by the waits that just ended (each bounded by the call timeout).
        while (pending.size > 0) await Promise.all([...pending]);
        // etcd3's close() leaves watchers retrying forever: none may be left.
        await cancelWatchers(rt.namespace, rt.callTimeout);
        if (options.client === undefined) client.close();
      })();
      return closed;
    },
  };
}
