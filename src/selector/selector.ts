import type { ServiceInstance } from "../registry/registry.js";

/**
 * One place a client can send a call to: an endpoint of a service instance. Kratos's
 * `selector.Node`; the URL carries the scheme and address.
 */
export interface Node {
  /** The endpoint, e.g. `grpc://10.0.0.5:9000`. Its `href` is the node's identity. */
  readonly url: URL;
  /** The registry instance this endpoint belongs to, when the node came from a registry. */
  readonly instance?: ServiceInstance;
  /** The publisher's weight (metadata `weight`), used by wrr. Default 100. */
  readonly weight: number;
  /** The instance's version (`""` when unknown), for {@link NodeFilter}s. */
  readonly version: string;
  /** The instance's metadata, for {@link NodeFilter}s. */
  readonly metadata: Readonly<Record<string, string>>;
}

/** How a call on a selected node ended. */
export interface DoneInfo {
  /**
   * Present when the call failed in a way that says something about the node (a 5xx, a
   * transport error, a timeout). Leave it out for business errors such as 404, or the node is
   * blamed for the caller's mistakes.
   */
  error?: unknown;
}

/** A node picked for one call, and the callback that reports how the call went. */
export interface Selected {
  readonly node: Node;
  /**
   * Call once when the call ends. The selector measures the latency itself, from the pick to
   * this call; later calls are ignored, so `finally` blocks may call it unconditionally.
   */
  done(info?: DoneInfo): void;
}

/** Narrows the candidate nodes of a selection. May return a new array or the same one. */
export type NodeFilter = (nodes: Node[]) => Node[];

/** Options of one {@link Selector.select} call. */
export interface SelectOptions {
  /** Applied after the selector's own filters. Default: none. */
  filters?: NodeFilter[];
}

/** Client-side load balancing over the nodes of one service. */
export interface Selector {
  /** Replaces the node list (on every resolver update). Stats of nodes that stay are kept. */
  apply(nodes: readonly Node[]): void;
  /**
   * Picks a node for one call. Throws a 503 `NODE_NOT_FOUND` KratosError when there is no node,
   * or none passes the filters.
   */
  select(options?: SelectOptions): Selected;
}

/** What a balancer learns when a call it picked ends. */
export interface PickResult {
  /** Milliseconds from the pick to `done`, on the selector's clock. */
  latency: number;
  /** Present when the call failed (see {@link DoneInfo.error}). */
  error?: unknown;
}

/** A balancer's pick: the node, and an optional hook for the call's outcome. */
export interface Picked {
  readonly node: Node;
  /** Called once when the call ends; balancers that keep no stats leave it out. */
  done?(result: PickResult): void;
}

/**
 * The strategy inside a selector (Kratos's `selector.Balancer`): picks one of the candidates that
 * survived the filters.
 */
export interface Balancer {
  /** Picks one of `nodes`, which is never empty. */
  pick(nodes: readonly Node[]): Picked;
  /** Called with the whole node list on every `apply`, to drop the state of nodes that left. */
  update?(nodes: readonly Node[]): void;
}

/** The clock and randomness a balancer uses, injected so tests are deterministic. */
export interface BalancerEnv {
  /** Milliseconds on a monotonic clock. */
  now(): number;
  /** A number in [0, 1), as `Math.random`. */
  random(): number;
}

/** Makes a balancer; a selector calls it once. */
export type BalancerFactory = (env: BalancerEnv) => Balancer;
