import { nodesFromUrls } from "../selector/node.js";
import type { Node } from "../selector/selector.js";

/**
 * Finds the nodes of an endpoint. `discovery:///name` endpoints get them from a registry
 * ({@link discoveryResolver} in `kratos-ts/registry`).
 */
export interface Resolver {
  /**
   * The current nodes. Returns the same array until the list changes, so clients can tell a
   * change by identity. Before a first list is known it waits (bounded by `signal`) instead of
   * failing (Kratos #3374).
   */
  resolve(signal: AbortSignal): Promise<readonly Node[]>;
  close?(): void;
  /**
   * Called by {@link resolverFor} with the name of a `discovery:///<name>` endpoint; the client
   * uses (and closes) the resolver it returns. Lets one resolver option take its service name
   * from the endpoint instead of repeating it.
   */
  withTarget?(name: string): Resolver;
}

class StaticResolver implements Resolver {
  readonly #nodes: readonly Node[];
  constructor(urls: readonly URL[]) {
    this.#nodes = Object.freeze(nodesFromUrls(urls));
  }
  resolve(): Promise<readonly Node[]> {
    return Promise.resolve(this.#nodes);
  }
}

/**
 * The resolver of an endpoint: `scheme://host:port` (one node), `direct:///h1:p1,h2:p2` (a fixed
 * list, as `scheme://` nodes) or `discovery:///name` (the given resolver). A bare `host:port`
 * means `scheme://host:port`. Throws with the endpoint named when it cannot be used.
 */
export function resolverFor(
  endpoint: string,
  scheme: string,
  schemes: readonly string[],
  resolver?: Resolver,
): Resolver {
  let url: URL;
  try {
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(endpoint) ? endpoint : `${scheme}://${endpoint}`);
  } catch {
    throw new Error(`bad endpoint "${endpoint}"`);
  }
  const protocol = url.protocol.slice(0, -1);
  if (schemes.includes(protocol)) {
    if (url.host === "") throw new Error(`no host in endpoint "${endpoint}"`);
    return new StaticResolver([new URL(`${protocol}://${url.host}`)]);
  }
  if (protocol === "direct") {
    const hosts = url.pathname
      .replace(/^\/+/, "")
      .split(",")
      .filter((h) => h !== "");
    if (hosts.length === 0) throw new Error(`no hosts in endpoint "${endpoint}"`);
    return new StaticResolver(hosts.map((h) => new URL(`${scheme}://${h}`)));
  }
  if (protocol === "discovery") {
    if (resolver === undefined) {
      throw new Error(`endpoint "${endpoint}" needs a resolver (a registry discovery)`);
    }
    const name = decodeURIComponent(url.pathname.replace(/^\/+/, ""));
    if (name === "") throw new Error(`no service name in endpoint "${endpoint}"`);
    return resolver.withTarget?.(name) ?? resolver;
  }
  throw new Error(`unsupported scheme in endpoint "${endpoint}"`);
}
