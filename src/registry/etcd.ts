/**
 * A registry on etcd, compatible with Go Kratos's `contrib/registry/etcd`: both read and write
 * `<namespace>/<name>/<id>` = the instance as JSON, so Go and TypeScript services find each
 * other.
 *
 * @module
 */
import type { Etcd3 } from "etcd3";
import { createEtcdClient, defaultEtcdEndpoints } from "../internal/etcd-client.js";
import type { Context } from "../context.js";
import { discardLogger } from "../log/logger.js";
import type { Logger } from "../log/logger.js";
import { encodeInstance } from "./etcd/codec.js";
import { Registration } from "./etcd/registration.js";
import type { RegistrationSettings } from "./etcd/registration.js";
import { EtcdServiceWatcher, InstanceReader } from "./etcd/watcher.js";
import type { Discovery, Registrar, ServiceInstance, Watcher } from "./registry.js";

/** Options of {@link createEtcdRegistry}; every field is optional. */
export interface EtcdRegistryOptions {
  /**
   * An etcd3 client to use. It stays the caller's: {@link EtcdRegistry.close} does not close
   * it. Default: a client of `endpoints`, closed by `close()`.
   */
  client?: Etcd3;
  /** etcd's client URLs when no `client` is given. Default `["http://127.0.0.1:2379"]`. */
  endpoints?: string[];
  /** The key prefix. Default `/microservices` (Go Kratos's). */
  namespace?: string;
  /** The lease TTL in seconds: how long a dead instance stays listed. Default 15. */
  ttl?: number;
  /** Where outages and corrupt values are reported. Default {@link discardLogger}. */
  logger?: Logger;
  /** The cap of the retry backoff in milliseconds. Default 5 000. */
  maxRetryDelay?: number;
  /** The deadline of each etcd call in milliseconds. Default 5 000. */
  callTimeout?: number;
}

/** A {@link Registrar} and {@link Discovery} on etcd; see {@link createEtcdRegistry}. */
export interface EtcdRegistry extends Registrar, Discovery {
  /**
   * Stops every keep-alive loop and watcher, and closes the client if the registry created
   * it. Keys are left to expire with their leases: call `deregister` first to remove them now.
   */
  close(): Promise<void>;
}

const defaults = {
  endpoints: defaultEtcdEndpoints,
  namespace: "/microservices",
  ttl: 15,
  logger: discardLogger,
  maxRetryDelay: 5_000,
  callTimeout: 5_000,
};

/**
 * Creates a registry on etcd. `register` puts `<namespace>/<name>/<id>` with a lease kept
 * alive, and never gives up: on lease loss, an etcd restart or a partition it grants a new
 * lease and puts the key again with capped backoff, for as long as the instance is registered.
 * `register` resolves once the key is put or, when etcd is unreachable, once the first attempt
 * failed (logging `etcd unreachable, will keep trying` once): the app serves meanwhile and
 * appears in etcd as soon as etcd does. Watchers list the service, then follow its changes;
 * while etcd is unreachable a watcher's first `next()` waits (retrying) rather than failing,
 * and later ones keep the last list until etcd is back.
 */
export function createEtcdRegistry(options: EtcdRegistryOptions = {}): EtcdRegistry {
  return new EtcdRegistryImpl(options);
}

class EtcdRegistryImpl implements EtcdRegistry {
  readonly #settings: RegistrationSettings;
  readonly #ownsClient: boolean;
  readonly #namespace: string;
  readonly #reader: InstanceReader;
  readonly #registrations = new Map<string, Registration>();
  readonly #watchers = new Set<EtcdServiceWatcher>();
  #closed = false;

  constructor(options: EtcdRegistryOptions) {
    const maxRetryDelay = options.maxRetryDelay ?? defaults.maxRetryDelay;
    const ttl = options.ttl ?? defaults.ttl;
    if (!Number.isInteger(ttl) || ttl < 1) {
      throw new RangeError(`etcd registry: ttl must be a whole number of seconds >= 1, got ${ttl}`);
    }
    this.#ownsClient = options.client === undefined;
    const client =
      options.client ?? createEtcdClient(options.endpoints ?? defaults.endpoints, maxRetryDelay);
    const logger = options.logger ?? defaults.logger;
    this.#settings = {
      client,
      logger,
      ttl,
      maxRetryDelay,
      callTimeout: options.callTimeout ?? defaults.callTimeout,
    };
    // Go Kratos joins with "/": a trailing slash in the option would make "//" keys.
    this.#namespace = (options.namespace ?? defaults.namespace).replace(/\/+$/, "");
    this.#reader = new InstanceReader(logger);
  }

  async register(ctx: Context, instance: ServiceInstance): Promise<void> {
    this.#assertOpen();
    const key = this.#key(instance.name, instance.id);
    // Registering again (new endpoints, metadata) replaces the loop; the key is overwritten.
    await this.#registrations.get(key)?.stop(false, this.#deadline(ctx));
    const registration = new Registration(this.#settings, key, encodeInstance(instance));
    this.#registrations.set(key, registration);
    await abortable(ctx, registration.start());
  }

  async deregister(ctx: Context, instance: ServiceInstance): Promise<void> {
    const key = this.#key(instance.name, instance.id);
    const registration = this.#registrations.get(key);
    this.#registrations.delete(key);
    const deadline = this.#deadline(ctx);
    if (registration !== undefined) {
      await registration.stop(true, deadline);
    } else {
      await this.#settings.client.delete().key(key).options({ deadline }).exec();
    }
  }

  async getService(ctx: Context, name: string): Promise<ServiceInstance[]> {
    this.#assertOpen();
    const res = await this.#settings.client
      .getAll()
      .prefix(this.#prefix(name))
      .options({ deadline: this.#deadline(ctx) })
      .exec();
    const list: ServiceInstance[] = [];
    for (const kv of res.kvs) {
      const instance = this.#reader.read(kv);
      if (instance !== undefined) list.push(instance);
    }
    return list;
  }

  watch(_ctx: Context, name: string): Promise<Watcher> {
    this.#assertOpen();
    const watcher: EtcdServiceWatcher = new EtcdServiceWatcher(
      {
        client: this.#settings.client,
        reader: this.#reader,
        maxRetryDelay: this.#settings.maxRetryDelay,
        callTimeout: this.#settings.callTimeout,
        onStop: () => this.#watchers.delete(watcher),
      },
      this.#prefix(name),
    );
    this.#watchers.add(watcher);
    return Promise.resolve(watcher);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const deadline = Date.now() + this.#settings.callTimeout;
    const registrations = [...this.#registrations.values()];
    this.#registrations.clear();
    await Promise.all([
      ...registrations.map((r) => r.stop(false, deadline)),
      ...[...this.#watchers].map((w) => w.stop()),
    ]);
    if (this.#ownsClient) this.#settings.client.close();
  }

  #assertOpen(): void {
    if (this.#closed) throw new Error("etcd registry closed");
  }

  #prefix(name: string): string {
    return `${this.#namespace}/${name}/`;
  }

  #key(name: string, id: string): string {
    return `${this.#namespace}/${name}/${id}`;
  }

  #deadline(ctx: Context): number {
    const own = Date.now() + this.#settings.callTimeout;
    return ctx.deadline === undefined ? own : Math.min(own, ctx.deadline);
  }
}

/**
 * Resolves with `work`, or as soon as `ctx` is aborted: the work (a registration's first
 * attempt) goes on in the background, and the caller's timeout is not the registry's business.
 */
function abortable(ctx: Context, work: Promise<void>): Promise<void> {
  const signal = ctx.signal;
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const done = () => {
      signal.removeEventListener("abort", done);
      resolve();
    };
    signal.addEventListener("abort", done, { once: true });
    work.then(done, (err: unknown) => {
      signal.removeEventListener("abort", done);
      reject(err instanceof Error ? err : new Error(String(err)));
    });
  });
}
