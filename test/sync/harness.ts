// What the sync suites share: an etcd per suite with a raw client to inspect keys, sync
// clients closed after the suite, and helpers to read abort reasons and timings.
import { after, before } from "node:test";
import { Etcd3 } from "etcd3";
import { KratosError } from "../../src/errors/error.js";
import { createEtcdSync } from "../../src/sync/index.js";
import type { EtcdSync, EtcdSyncOptions } from "../../src/sync/index.js";
import { startEtcd } from "../helpers/etcd.js";
import type { EtcdServer } from "../helpers/etcd.js";

/** A signal's abort reason as `<code> <reason>` when it is a KratosError. */
export function reasonOf(err: unknown): string {
  return err instanceof KratosError ? `${err.code} ${err.reason}` : String(err);
}

/** Resolves with how long after `from` the signal aborted (at once if it already has). */
export function abortedAfter(signal: AbortSignal, from: number): Promise<number> {
  if (signal.aborted) return Promise.resolve(Date.now() - from);
  return new Promise((resolve) => {
    signal.addEventListener(
      "abort",
      () => {
        resolve(Date.now() - from);
      },
      { once: true },
    );
  });
}

/** How many watchers etcd at `endpoint` has open now (its own metric). */
export function etcdWatchers(endpoint: string): Promise<number> {
  return etcdMetric(endpoint, "etcd_debugging_mvcc_watcher_total");
}

/** How many lease keep-alives etcd at `endpoint` has renewed so far (its own metric). */
export function etcdLeaseRenewals(endpoint: string): Promise<number> {
  return etcdMetric(endpoint, "etcd_debugging_lease_renewed_total");
}

async function etcdMetric(endpoint: string, name: string): Promise<number> {
  const text = await (await fetch(`${endpoint}/metrics`)).text();
  const line = new RegExp(`^${name} (\\d+)`, "m").exec(text);
  if (line?.[1] === undefined) throw new Error(`etcd exposes no ${name}`);
  return Number(line[1]);
}

/** The etcd of a suite; valid inside its tests. */
export interface SyncSuite {
  readonly etcd: EtcdServer;
  /** A plain etcd3 client, to look at keys and revoke leases. */
  readonly raw: Etcd3;
  /** A new sync client on the suite's etcd (short backoff), closed after the suite. */
  open(options?: EtcdSyncOptions): EtcdSync;
  /** Keys under the sync namespace's `prefix`. */
  keys(prefix: string): Promise<string[]>;
}

/** Starts an etcd before the suite's tests and stops it, and every client, after them. */
export function syncSuite(): SyncSuite {
  let etcd: EtcdServer | undefined;
  let raw: Etcd3 | undefined;
  const clients: EtcdSync[] = [];
  before(async () => {
    etcd = await startEtcd();
    raw = new Etcd3({ hosts: etcd.endpoint });
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    raw?.close();
    await etcd?.stop();
  });
  const started = () => {
    if (etcd === undefined || raw === undefined) throw new Error("etcd not started");
    return { etcd, raw };
  };
  return {
    get etcd() {
      return started().etcd;
    },
    get raw() {
      return started().raw;
    },
    open(options = {}) {
      const sync = createEtcdSync({
        endpoints: [started().etcd.endpoint],
        maxRetryDelay: 300,
        callTimeout: 1_000,
        ...options,
      });
      clients.push(sync);
      return sync;
    },
    keys: (prefix) => started().raw.getAll().prefix(`/kratos/sync/${prefix}`).keys(),
  };
}
