import type { Context } from "../context.js";
import type { Discovery, Registrar, ServiceInstance, Watcher } from "./registry.js";

/** A registry in one process's memory: for tests and single-process setups. */
export interface MemoryRegistry extends Registrar, Discovery {}

/** Creates an empty {@link MemoryRegistry}. */
export function createMemoryRegistry(): MemoryRegistry {
  return new Memory();
}

class Memory implements MemoryRegistry {
  // service name -> instance id -> instance
  readonly #services = new Map<string, Map<string, ServiceInstance>>();
  readonly #watchers = new Map<string, Set<MemoryWatcher>>();

  register(_ctx: Context, instance: ServiceInstance): Promise<void> {
    let byId = this.#services.get(instance.name);
    if (byId === undefined)
      this.#services.set(instance.name, (byId = new Map<string, ServiceInstance>()));
    byId.set(instance.id, copy(instance));
    this.#notify(instance.name);
    return Promise.resolve();
  }

  deregister(_ctx: Context, instance: ServiceInstance): Promise<void> {
    if (this.#services.get(instance.name)?.delete(instance.id) === true) {
      this.#notify(instance.name);
    }
    return Promise.resolve();
  }

  getService(_ctx: Context, name: string): Promise<ServiceInstance[]> {
    return Promise.resolve(this.#list(name));
  }

  watch(_ctx: Context, name: string): Promise<Watcher> {
    let set = this.#watchers.get(name);
    if (set === undefined) this.#watchers.set(name, (set = new Set<MemoryWatcher>()));
    const watchers = set;
    const watcher = new MemoryWatcher(this.#list(name), () => watchers.delete(watcher));
    watchers.add(watcher);
    return Promise.resolve(watcher);
  }

  #list(name: string): ServiceInstance[] {
    return [...(this.#services.get(name)?.values() ?? [])].map(copy);
  }

  #notify(name: string): void {
    for (const watcher of this.#watchers.get(name) ?? []) watcher.push(this.#list(name));
  }
}

class MemoryWatcher implements Watcher {
  // The latest list not yet returned by next(); the first one is the list at watch time.
  #pending: ServiceInstance[] | undefined;
  #waiting: ((list: ServiceInstance[]) => void) | undefined;
  #failWaiting: ((err: Error) => void) | undefined;
  #stopped = false;
  readonly #onStop: () => void;

  constructor(initial: ServiceInstance[], onStop: () => void) {
    this.#pending = initial;
    this.#onStop = onStop;
  }

  push(list: ServiceInstance[]): void {
    if (this.#waiting !== undefined) {
      const resolve = this.#waiting;
      this.#waiting = this.#failWaiting = undefined;
      resolve(list);
    } else {
      this.#pending = list;
    }
  }

  next(): Promise<ServiceInstance[]> {
    if (this.#stopped) return Promise.reject(new Error("watcher stopped"));
    const pending = this.#pending;
    if (pending !== undefined) {
      this.#pending = undefined;
      return Promise.resolve(pending);
    }
    return new Promise((resolve, reject) => {
      this.#waiting = resolve;
      this.#failWaiting = reject;
    });
  }

  stop(): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    this.#stopped = true;
    this.#onStop();
    this.#failWaiting?.(new Error("watcher stopped"));
    this.#waiting = this.#failWaiting = undefined;
    return Promise.resolve();
  }
}

function copy(instance: ServiceInstance): ServiceInstance {
  return {
    ...instance,
    metadata: { ...instance.metadata },
    endpoints: [...instance.endpoints],
  };
}
