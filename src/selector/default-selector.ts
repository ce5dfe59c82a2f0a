import { KratosError } from "../errors/error.js";
import { reasons } from "../errors/reasons.js";
import { p2cBalancer } from "./p2c/balancer.js";
import { randomBalancer } from "./random/balancer.js";
import type {
  Balancer,
  BalancerFactory,
  Node,
  NodeFilter,
  SelectOptions,
  Selected,
  Selector,
} from "./selector.js";
import { wrrBalancer } from "./wrr/balancer.js";

/** Options of {@link createSelector}. */
export interface SelectorOptions {
  /** `p2c` (default), `wrr`, `random`, or a custom balancer factory. */
  balancer?: "p2c" | "wrr" | "random" | BalancerFactory;
  /** Applied to every selection, before the per-call filters. Default: none. */
  filters?: NodeFilter[];
  /** Milliseconds on a monotonic clock, for latencies and idle times. Default `performance.now`. */
  now?: () => number;
  /** A number in [0, 1), for p2c and random. Default `Math.random`. */
  random?: () => number;
}

const balancers: Record<"p2c" | "wrr" | "random", () => BalancerFactory> = {
  p2c: () => p2cBalancer(),
  wrr: () => wrrBalancer(),
  random: () => randomBalancer(),
};

/**
 * A selector (Kratos's `selector.Default`): filters the applied nodes, lets the balancer pick one
 * and feeds the call's latency and outcome back to it through `done`.
 */
export function createSelector(options: SelectorOptions = {}): Selector {
  const now = options.now ?? (() => performance.now());
  const random = options.random ?? Math.random;
  const factory =
    typeof options.balancer === "function"
      ? options.balancer
      : balancers[options.balancer ?? "p2c"]();
  return new DefaultSelector(factory({ now, random }), options.filters ?? [], now);
}

class DefaultSelector implements Selector {
  readonly #balancer: Balancer;
  readonly #filters: readonly NodeFilter[];
  readonly #now: () => number;
  #nodes: readonly Node[] = [];

  constructor(balancer: Balancer, filters: readonly NodeFilter[], now: () => number) {
    this.#balancer = balancer;
    this.#filters = filters;
    this.#now = now;
  }

  apply(nodes: readonly Node[]): void {
    // One node per href: a registry that lists an endpoint twice should not double its share.
    const byHref = new Map<string, Node>();
    for (const node of nodes) if (!byHref.has(node.url.href)) byHref.set(node.url.href, node);
    this.#nodes = Object.freeze([...byHref.values()]);
    this.#balancer.update?.(this.#nodes);
  }

  select(options: SelectOptions = {}): Selected {
    // A fresh array, so filters may sort or splice it without touching the applied list.
    let candidates = [...this.#nodes];
    for (const filter of [...this.#filters, ...(options.filters ?? [])]) {
      if (candidates.length === 0) break;
      candidates = filter(candidates);
    }
    if (candidates.length === 0) {
      const why =
        this.#nodes.length === 0
          ? "no nodes"
          : `none of ${this.#nodes.length} nodes passed the filters`;
      throw new KratosError(503, reasons.nodeNotFound, `no available node: ${why}`);
    }
    const start = this.#now();
    const picked = this.#balancer.pick(candidates);
    let finished = false;
    return {
      node: picked.node,
      done: (info = {}) => {
        if (finished) return;
        finished = true;
        const latency = Math.max(0, this.#now() - start);
        picked.done?.(info.error === undefined ? { latency } : { latency, error: info.error });
      },
    };
  }
}
