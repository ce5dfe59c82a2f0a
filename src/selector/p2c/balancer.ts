import { nodeAt } from "../node.js";
import { randomIndex } from "../random/balancer.js";
import type { Balancer, BalancerEnv, BalancerFactory, Node, Picked } from "../selector.js";
import { NodeStats } from "./ewma.js";

/** Options of {@link p2cBalancer}, in milliseconds; every field has Kratos's default. */
export interface P2cOptions {
  /** A node not picked for this long is picked when drawn, to refresh its stats. Default 3000. */
  forcePickAfter?: number;
  /** The decay time of the latency and success averages. Default 600. */
  tau?: number;
}

const defaults: Required<P2cOptions> = { forcePickAfter: 3000, tau: 600 };

/**
 * Power of two choices, Kratos's default balancer (`selector/p2c` over `node/ewma`): draws two
 * distinct nodes at random and picks the one with the better score, from the moving averages of
 * latency and success and the calls in flight. Comparing two random nodes instead of taking the
 * best of all keeps every client from stampeding the same "best" node. A drawn node that has not
 * been picked for `forcePickAfter` is picked anyway, because a node that lost once (slow, failing)
 * would otherwise never get the calls that show it recovered.
 */
export function p2cBalancer(options: P2cOptions = {}): BalancerFactory {
  const settings = { ...defaults, ...options };
  return function p2cBalancer(env) {
    return new P2cBalancer(env, settings);
  };
}

class P2cBalancer implements Balancer {
  readonly #env: BalancerEnv;
  readonly #settings: Required<P2cOptions>;
  // Keyed by href so stats survive resolver updates that rebuild the Node objects.
  readonly #stats = new Map<string, NodeStats>();

  constructor(env: BalancerEnv, settings: Required<P2cOptions>) {
    this.#env = env;
    this.#settings = settings;
  }

  pick(nodes: readonly Node[]): Picked {
    const now = this.#env.now();
    let node = nodeAt(nodes, 0);
    if (nodes.length > 1) {
      const a = randomIndex(this.#env.random(), nodes.length);
      let b = randomIndex(this.#env.random(), nodes.length - 1);
      if (b >= a) b++;
      const [nodeA, nodeB] = [nodeAt(nodes, a), nodeAt(nodes, b)];
      const [picked, other] =
        this.#statsOf(nodeB).score(now) > this.#statsOf(nodeA).score(now)
          ? [nodeB, nodeA]
          : [nodeA, nodeB];
      node = this.#statsOf(other).idle(now) > this.#settings.forcePickAfter ? other : picked;
    }
    const stats = this.#statsOf(node);
    const token = stats.pick(now);
    return {
      node,
      done: (result) => {
        stats.done(token, this.#env.now(), result.latency, result.error !== undefined);
      },
    };
  }

  update(nodes: readonly Node[]): void {
    const keep = new Set(nodes.map((node) => node.url.href));
    for (const href of this.#stats.keys()) if (!keep.has(href)) this.#stats.delete(href);
  }

  #statsOf(node: Node): NodeStats {
    let stats = this.#stats.get(node.url.href);
    if (stats === undefined) {
      stats = new NodeStats({ tau: this.#settings.tau });
      this.#stats.set(node.url.href, stats);
    }
    return stats;
  }
}
