import type { Balancer, BalancerFactory, Node } from "../selector.js";

/**
 * Smooth weighted round robin, nginx's algorithm as in Kratos `selector/wrr`: every pick adds each
 * candidate's weight to its current weight, picks the highest (the first on ties) and takes the
 * total off the winner. Over one cycle of `sum(weights)` picks every node is picked exactly
 * `weight` times, and heavy nodes are spread out instead of picked in a row (5,1,1 gives
 * `a a b a c a a`). Weights come from {@link Node.weight}.
 */
export function wrrBalancer(): BalancerFactory {
  return function wrrBalancer() {
    return new WrrBalancer();
  };
}

class WrrBalancer implements Balancer {
  // Keyed by href so the rotation survives resolver updates that rebuild the Node objects.
  readonly #current = new Map<string, number>();

  pick(nodes: readonly Node[]): { node: Node } {
    let total = 0;
    let selected: Node | undefined;
    let selectedWeight = 0;
    for (const node of nodes) {
      total += node.weight;
      const current = (this.#current.get(node.url.href) ?? 0) + node.weight;
      this.#current.set(node.url.href, current);
      if (selected === undefined || current > selectedWeight) {
        selected = node;
        selectedWeight = current;
      }
    }
    // nodes is never empty, so selected is set; the check is for the type checker.
    if (selected === undefined) throw new RangeError("balancer: no nodes");
    const node = selected;
    this.#current.set(node.url.href, selectedWeight - total);
    return { node };
  }

  update(nodes: readonly Node[]): void {
    const keep = new Set(nodes.map((node) => node.url.href));
    for (const href of this.#current.keys()) if (!keep.has(href)) this.#current.delete(href);
  }
}
