/**
 * The two things kratos-ts/sync needs from etcd3 that etcd3 keeps private, read in one place,
 * by name, and checked: an etcd3 release that renames them fails the sync tests instead of
 * silently breaking the guarantees.
 *
 * @module
 */
import { Election, Lease, Namespace, Watcher } from "etcd3";
import type { Campaign, Lock } from "etcd3";
import { withTimeout } from "../internal/with-timeout.js";

/**
 * The lease etcd3 keeps inside a `Lock` (after `acquire()`) or a `Campaign`. Its keep-alive
 * events are the only way to know how long etcd will keep the key: etcd3 itself reports a lost
 * lease only after 2 x TTL without a keep-alive, when etcd has long since handed the lock to
 * someone else.
 */
export function leaseOf(holder: Lock | Campaign): Lease {
  const lease: unknown = Reflect.get(holder, "lease");
  if (!(lease instanceof Lease)) {
    throw new TypeError("kratos-ts/sync: this etcd3 version keeps no lease in its Lock/Campaign");
  }
  return lease;
}

/**
 * The watchers still attached to a namespace's (or an election's) watch manager. etcd3's
 * `close()` leaves them attached, and each then retries its stream forever on a timer, so a
 * process that closed its client never exits; and a candidate that gave up waiting keeps a
 * watch on the leader's key until that key goes. Whatever created a namespace cancels what is
 * left on it with {@link cancelWatchers}.
 */
export function watchersOf(scope: Namespace | Election): Watcher[] {
  const namespace: unknown = scope instanceof Election ? Reflect.get(scope, "namespace") : scope;
  if (!(namespace instanceof Namespace)) return [];
  const manager: unknown = Reflect.get(namespace, "watchManager");
  if (typeof manager !== "object" || manager === null) return [];
  const watchers: unknown = Reflect.get(manager, "watchers");
  if (!Array.isArray(watchers)) return [];
  return watchers.filter((w): w is Watcher => w instanceof Watcher);
}

/** Cancels every watcher left on `scope`, waiting at most `ms` for etcd to confirm. */
export async function cancelWatchers(scope: Namespace | Election, ms: number): Promise<void> {
  await Promise.all(
    watchersOf(scope).map((watcher) =>
      withTimeout(watcher.cancel(), ms, "watch cancel").catch(() => undefined),
    ),
  );
}
