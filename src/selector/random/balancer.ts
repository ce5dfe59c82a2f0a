import { nodeAt } from "../node.js";
import type { BalancerFactory } from "../selector.js";

/** Picks a node uniformly at random, ignoring weights and stats (Kratos `selector/random`). */
export function randomBalancer(): BalancerFactory {
  return function randomBalancer(env) {
    return {
      pick(nodes) {
        return { node: nodeAt(nodes, randomIndex(env.random(), nodes.length)) };
      },
    };
  };
}

/**
 * An index in [0, length) from a number in [0, 1); clamped because an injected random that
 * returns 1 would otherwise index past the end.
 */
export function randomIndex(random: number, length: number): number {
  return Math.min(length - 1, Math.max(0, Math.floor(random * length)));
}
