import { Etcd3 } from "etcd3";
import { WatchBackoff } from "../registry/etcd/backoff.js";

/** etcd's client URL when none is configured: a local single-node etcd. */
export const defaultEtcdEndpoints: readonly string[] = ["http://127.0.0.1:2379"];

/**
 * The etcd3 client every kit part creates when it is not handed one: the given endpoints, and
 * a watch backoff capped at `maxRetryDelay` ms, because etcd3's default can wait ~9 s after
 * etcd is back before a watch (a registry watcher, a config reload, a lock waiter or an
 * election observer) resumes. Whoever creates it closes it.
 */
export function createEtcdClient(
  endpoints: readonly string[] = defaultEtcdEndpoints,
  maxRetryDelay = 5_000,
): Etcd3 {
  return new Etcd3({
    hosts: [...endpoints],
    faultHandling: { watchBackoff: new WatchBackoff(maxRetryDelay) },
  });
}
