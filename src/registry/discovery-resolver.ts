/**
 * The resolver of `discovery:///<name>` endpoints: the nodes of a service, kept current by a
 * registry {@link Discovery} watch, for the HTTP and gRPC clients.
 *
 * @module
 */
import { createContext } from "../context.js";
import type { Context } from "../context.js";
import { KratosError } from "../errors/error.js";
import { reasons } from "../errors/reasons.js";
import { discardLogger } from "../log/logger.js";
import type { Logger } from "../log/logger.js";
import { nodesFromInstances } from "../selector/node.js";
import type { Node } from "../selector/selector.js";
import type { Resolver } from "../transport/resolver.js";
import type { Discovery, ServiceInstance, Watcher } from "./registry.js";

/** Options of {@link discoveryResolver}. */
export interface DiscoveryResolverOptions {
  /** Where instances are found (the memory or etcd registry, or any {@link Discovery}). */
  discovery: Discovery;
  /**
   * The endpoints kept: `grpc` for the gRPC client, `http` for the HTTP client (an instance
   * lists one endpoint per server, `grpc://ip:port` and `http://ip:port`).
   */
  scheme: "http" | "https" | "grpc" | "grpcs";
  /**
   * The service name. Default: the name of the client's `discovery:///<name>` endpoint (the
   * clients pass it through `Resolver.withTarget`).
   */
  name?: string;
  /** Passed to `discovery.watch`. Default: a fresh context. */
  ctx?: Context;
  /** Where empty updates and watch failures are reported. Default: discarded. */
  logger?: Logger;
  /** The cap of the delay before watching again after a watch failed, in ms. Default 5 000. */
  maxRetryDelay?: number;
}

/**
 * Creates a {@link Resolver} of the nodes of a service:
 *
 * ```ts
 * const client = createGrpcClient(Greeter, {
 *   endpoint: "discovery:///helloworld",
 *   resolver: discoveryResolver({ discovery: registry, scheme: "grpc" }),
 * });
 * ```
 *
 * It watches the service once it knows the name (at once with `name`, else when a client hands
 * it its endpoint) and keeps the latest list of the endpoints of `scheme`. An update with no
 * such endpoint is ignored, so a registry hiccup (an etcd outage, a redeploy of every instance)
 * never leaves the clients with nothing to call. `resolve` answers at once once a list is
 * known; before that it waits for the first one, and when the call's signal aborts first it
 * rejects with a 503 `NODE_NOT_FOUND` error (Kratos #3374: a call made right after creating the
 * client waits instead of failing). The client closes it, which stops the watch.
 */
export function discoveryResolver(options: DiscoveryResolverOptions): Resolver {
  return options.name === undefined
    ? new UnboundResolver(options)
    : new DiscoveryResolver(options, options.name);
}

// Before a client names the service: nothing to watch yet. Each client gets its own watch,
// since each closes its resolver.
class UnboundResolver implements Resolver {
  readonly #options: DiscoveryResolverOptions;
  constructor(options: DiscoveryResolverOptions) {
    this.#options = options;
  }
  resolve(): Promise<readonly Node[]> {
    return Promise.reject(
      new Error("discovery resolver: no service name (give `name`, or a discovery:/// endpoint)"),
    );
  }
  withTarget(name: string): Resolver {
    return new DiscoveryResolver(this.#options, name);
  }
}

interface Waiter {
  resolve(nodes: readonly Node[]): void;
  reject(err: KratosError): void;
}

class DiscoveryResolver implements Resolver {
  readonly #name: string;
  readonly #options: DiscoveryResolverOptions;
  readonly #logger: Logger;
  readonly #closed = new AbortController();
  // Replaced only when the list changes, so clients can tell a change by identity.
  #nodes: readonly Node[] | undefined;
  readonly #waiters = new Set<Waiter>();
  #watcher: Watcher | undefined;

  constructor(options: DiscoveryResolverOptions, name: string) {
    this.#options = options;
    this.#name = name;
    this.#logger = options.logger ?? discardLogger;
    void this.#run();
  }

  resolve(signal: AbortSignal): Promise<readonly Node[]> {
    if (this.#nodes !== undefined) return Promise.resolve(this.#nodes);
    if (this.#closed.signal.aborted) {
      return Promise.reject(this.#notFound(`the resolver of ${this.#name} is closed`));
    }
    if (signal.aborted) return Promise.reject(this.#notFound(undefined, signal.reason));
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        resolve: (nodes) => {
          signal.removeEventListener("abort", onAbort);
          resolve(nodes);
        },
        reject: (err) => {
          signal.removeEventListener("abort", onAbort);
          reject(err);
        },
      };
      const onAbort = () => {
        this.#waiters.delete(waiter);
        reject(this.#notFound(undefined, signal.reason));
      };
      signal.addEventListener("abort", onAbort, { once: true });
      this.#waiters.add(waiter);
    });
  }

  close(): void {
    if (this.#closed.signal.aborted) return;
    this.#closed.abort();
    // Calls still waiting for a first list would otherwise hang until their deadline.
    for (const waiter of this.#waiters) {
      waiter.reject(this.#notFound(`the resolver of ${this.#name} is closed`));
    }
    this.#waiters.clear();
    const watcher = this.#watcher;
    this.#watcher = undefined;
    // stop() only fails if the registry does: nothing a closing client could do about it.
    watcher?.stop().catch((err: unknown) => {
      this.#logger.warn({ service: this.#name, err }, "discovery resolver: stopping the watch");
    });
  }

  withTarget(): Resolver {
    // A name given in the options wins over the endpoint's.
    return this;
  }

  #notFound(message?: string, cause?: unknown): KratosError {
    return new KratosError(
      503,
      reasons.nodeNotFound,
      message ?? `no instance of ${this.#name} was found`,
      cause === undefined ? {} : { cause },
    );
  }

  /** Watches until closed; a failed watch is started again after a capped backoff. */
  async #run(): Promise<void> {
    const closed = this.#closed.signal;
    // A function, not the property: TypeScript would narrow `aborted` across the awaits.
    const isClosed = () => closed.aborted;
    const maxDelay = this.#options.maxRetryDelay ?? 5_000;
    let delay = 100;
    while (!isClosed()) {
      try {
        const watcher = await this.#options.discovery.watch(
          this.#options.ctx ?? createContext(),
          this.#name,
        );
        if (isClosed()) {
          await watcher.stop();
          return;
        }
        this.#watcher = watcher;
        for (;;) {
          this.#update(await watcher.next());
          delay = 100;
        }
      } catch (err) {
        if (isClosed()) return;
        this.#logger.warn(
          { service: this.#name, err },
          "discovery resolver: watch failed, watching again",
        );
        await this.#watcher?.stop().catch(() => undefined);
        this.#watcher = undefined;
        await sleep(delay, closed);
        delay = Math.min(delay * 2, maxDelay);
      }
    }
  }

  #update(instances: ServiceInstance[]): void {
    const nodes = Object.freeze(nodesFromInstances(instances, this.#options.scheme));
    if (nodes.length === 0) {
      // Keep the last known list: calling nodes that may be gone beats having none to call.
      if (this.#nodes !== undefined) {
        this.#logger.warn(
          { service: this.#name, scheme: this.#options.scheme },
          "discovery resolver: an update with no endpoint, keeping the last known nodes",
        );
      }
      return;
    }
    if (this.#nodes !== undefined && sameNodes(this.#nodes, nodes)) return;
    this.#nodes = nodes;
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const waiter of waiters) waiter.resolve(nodes);
  }
}

/**
 * Whether two lists hold the same nodes, weights, versions and metadata: a changed `weight` is a
 * change the balancer must see, a re-put of the same instance is not.
 */
function sameNodes(a: readonly Node[], b: readonly Node[]): boolean {
  return (
    a.length === b.length &&
    a.every((node, i) => {
      const other = b[i];
      return (
        other !== undefined &&
        node.url.href === other.url.href &&
        node.weight === other.weight &&
        node.version === other.version &&
        sameRecord(node.metadata, other.metadata)
      );
    })
  );
}

function sameRecord(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>) {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    timer.unref();
    signal.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
  });
}
