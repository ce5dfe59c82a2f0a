import type { Context } from "../context.js";

/**
 * One running instance of a service, as registries store it. The field names are Go Kratos's
 * (`registry.ServiceInstance`), so the JSON form is the same in etcd for both.
 */
export interface ServiceInstance {
  /** Unique per instance (the app id). */
  id: string;
  /** The service name instances share (`helloworld`). */
  name: string;
  version: string;
  metadata: Record<string, string>;
  /** Where it serves: `http://10.0.0.5:8000`, `grpc://10.0.0.5:9000`. */
  endpoints: string[];
}

/** Announces instances (the app registers itself after its servers start). */
export interface Registrar {
  register(ctx: Context, instance: ServiceInstance): Promise<void>;
  deregister(ctx: Context, instance: ServiceInstance): Promise<void>;
}

/** Finds the instances of a service, once or as a stream of changes. */
export interface Discovery {
  getService(ctx: Context, name: string): Promise<ServiceInstance[]>;
  watch(ctx: Context, name: string): Promise<Watcher>;
}

/** A stream of instance lists of one service. */
export interface Watcher {
  /**
   * The first call returns the current list; later calls wait until it changes and return the
   * whole new list.
   */
  next(): Promise<ServiceInstance[]>;
  stop(): Promise<void>;
}
