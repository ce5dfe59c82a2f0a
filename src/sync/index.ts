/**
 * Coordination on etcd (`kratos-ts/sync`): distributed locks with a TTL and a fencing token,
 * and leader election for singleton jobs, each with a `signal` that aborts when the etcd lease
 * is lost. A subpath of its own, so that the rest of the kit does not load the etcd client.
 *
 * @module
 */
export { createEtcdSync } from "./sync.js";
export type { EtcdSync, EtcdSyncOptions } from "./sync.js";
export type { AcquireOptions, DistributedLock, HeldLock, LockOptions } from "./lock.js";
export type { CampaignOptions, ElectionOptions, LeaderElection, Leadership } from "./election.js";
export type { LeaderObserver, ObserveOptions } from "./observer.js";
