// A balancer whose algorithm can change while calls run: the choice is read on every pick (one
// function call), and each algorithm's balancer is built once and kept, so switching back finds
// its stats (p2c latencies, wrr weights) where it left them.
import { p2cBalancer } from "./p2c/balancer.js";
import { randomBalancer } from "./random/balancer.js";
import type { Balancer, BalancerFactory, Node } from "./selector.js";
import { wrrBalancer } from "./wrr/balancer.js";

/** The names of the built-in balancers. */
export const balancerNames = ["p2c", "wrr", "random"] as const;

/** One of {@link balancerNames}. */
export type BalancerName = (typeof balancerNames)[number];

/** True when `name` is a built-in balancer's name. */
export function isBalancerName(name: unknown): name is BalancerName {
  return typeof name === "string" && (balancerNames as readonly string[]).includes(name);
}

const factories: Record<BalancerName, () => BalancerFactory> = {
  p2c: () => p2cBalancer(),
  wrr: () => wrrBalancer(),
  random: () => randomBalancer(),
};

/**
 * A balancer factory for `createSelector({ balancer })` that picks with the balancer named by
 * `choice()` at each call: pass `() => live.current` to follow a config key. Every balancer
 * built is kept up to date with the node list, so a switch needs no warm-up.
 */
export function liveBalancer(choice: () => BalancerName): BalancerFactory {
  return (env) => {
    const built = new Map<BalancerName, Balancer>();
    let nodes: readonly Node[] = [];
    const balancerOf = (name: BalancerName): Balancer => {
      let balancer = built.get(name);
      if (balancer === undefined) {
        balancer = factories[name]()(env);
        balancer.update?.(nodes);
        built.set(name, balancer);
      }
      return balancer;
    };
    return {
      pick: (candidates) => balancerOf(choice()).pick(candidates),
      update(next) {
        nodes = next;
        for (const balancer of built.values()) balancer.update?.(next);
      },
    };
  };
}
