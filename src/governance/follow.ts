// A store that follows a Config: built from its `governance` section at start (a bad section
// fails the start with one line naming the file or etcd key and the rule), then updated on
// every reload that changes the section, whichever source changed it (files, etcd, your own).
import type { Config } from "../config/config.js";
import { createGovernanceStore } from "./store.js";
import type { GovernanceStore, GovernanceStoreOptions } from "./store.js";

/** Options of {@link followGovernance}: the store's, without the rules and their origin. */
export type FollowGovernanceOptions = Omit<GovernanceStoreOptions, "rules" | "origin">;

/** A store that follows a config until {@link FollowedGovernance.close}. */
export interface FollowedGovernance extends GovernanceStore {
  /** Stops following the config and closes the policy instances. */
  close(): Promise<void>;
}

/**
 * Creates a store from the config's `governance` section (or `options.path`) and keeps it in
 * step with the config: a reload that changes the section updates the store within the
 * config's debounce (100 ms by default); a bad change is refused with one warning and the last
 * good rules stay. Throws a `GovernanceError` when the section is bad at start.
 */
export function followGovernance(
  config: Config,
  options: FollowGovernanceOptions = {},
): FollowedGovernance {
  const path = options.path ?? "governance";
  const origin = (key: string) => config.value(key).origin;
  const store = createGovernanceStore({
    ...options,
    path,
    origin,
    rules: config.value(path).raw(),
  });
  const stop = config.watch(path, (value) => {
    store.update(value.raw(), { origin });
  });
  return {
    get current() {
      return store.current;
    },
    check: (candidate, source) => store.check(candidate, source ?? { origin }),
    update: (candidate, source) => store.update(candidate, source ?? { origin }),
    close() {
      stop();
      return store.close();
    },
  };
}
