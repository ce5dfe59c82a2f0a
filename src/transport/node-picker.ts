import type { Context } from "../context.js";
import { callOutcome } from "../internal/call-outcome.js";
import { createSelector } from "../selector/default-selector.js";
import type { SelectorOptions } from "../selector/default-selector.js";
import type { Node, NodeFilter, Selected, Selector } from "../selector/selector.js";
import { notSent } from "./not-sent.js";
import { avoidedHosts } from "./retry-hints.js";
import { routedNodes } from "./route-hint.js";
import type { Resolver } from "./resolver.js";

/** One pick: the node, and `done` to call exactly when the call on it ends. */
export interface NodePick {
  readonly node: Node;
  /** Reports the call's outcome to the balancer; `err` is what the call threw, if anything. */
  done(ctx: Context, err?: unknown): void;
}

/**
 * What both clients do before each call: ask the resolver for the nodes, hand a changed list to
 * the selector (and to `onNodes`, so the client can close the connections of nodes that left),
 * and select one. `done` feeds the balancer only what says something about the node: a 404 is
 * the caller's business, a refused connection or a 503 is the node's.
 */
export class NodePicker {
  readonly #resolver: Resolver;
  readonly #selector: Selector;
  readonly #onNodes: (nodes: readonly Node[]) => void;
  #known: readonly Node[] | undefined;

  constructor(
    resolver: Resolver,
    selector: SelectorOptions | undefined,
    onNodes: (nodes: readonly Node[]) => void,
  ) {
    this.#resolver = resolver;
    // One selector per client: its node list is this client's scheme's endpoints.
    this.#selector = createSelector(selector);
    this.#onNodes = onNodes;
  }

  /**
   * Runs one call: `attempt` on a picked node, reporting its outcome. When the attempt failed
   * before the request reached the server ({@link notSent}), the call moves to a node it has not
   * tried yet, so a node that stopped or died moments ago costs no failed call; the error of the
   * last attempt is thrown when every node was tried or the call's signal ended. Only for
   * requests that can be sent again (a unary message, not a consumed stream). Nodes that a retry
   * middleware asked to avoid (`avoidHost`) are passed over while others are left; a route
   * (`routeNodes`) limits the nodes the call may go to at all.
   */
  async call<T>(ctx: Context, attempt: (node: Node) => Promise<T>): Promise<T> {
    const tried = new Set<string>();
    const avoid = avoidedHosts(ctx);
    const route = routedNodes(ctx);
    let pick = await this.pick(ctx.signal, undefined, avoid, route);
    for (;;) {
      try {
        const reply = await attempt(pick.node);
        pick.done(ctx);
        return reply;
      } catch (err) {
        pick.done(ctx, err);
        if (!notSent(err) || ctx.signal.aborted) throw err;
        tried.add(pick.node.url.href);
        try {
          pick = await this.pick(ctx.signal, tried, avoid, route);
        } catch {
          throw err; // every node was tried: the attempt's error says more than NODE_NOT_FOUND
        }
      }
    }
  }

  /**
   * Picks a node for a call, leaving out the nodes in `exclude` (hrefs), keeping those `route`
   * keeps, and leaving out the nodes in `avoid` (`host:port`) unless no other node is left.
   */
  async pick(
    signal: AbortSignal,
    exclude?: ReadonlySet<string>,
    avoid?: ReadonlySet<string>,
    route?: NodeFilter,
  ): Promise<NodePick> {
    const nodes = await this.#resolver.resolve(signal);
    // Resolvers return the same array until the list changes: apply only real changes, so the
    // balancer's per-node state is not rebuilt on every call.
    if (nodes !== this.#known) {
      this.#known = nodes;
      this.#selector.apply(nodes);
      this.#onNodes(nodes);
    }
    const filters: NodeFilter[] = [];
    if (exclude !== undefined && exclude.size > 0) {
      filters.push((candidates) => candidates.filter((n) => !exclude.has(n.url.href)));
    }
    // After `exclude`: a destination whose nodes all failed before the request was sent has no
    // live node left for this call, so the route's fallback applies to it.
    if (route !== undefined) filters.push(route);
    if (avoid !== undefined && avoid.size > 0) {
      filters.push((candidates) => {
        const others = candidates.filter((n) => !avoid.has(n.url.host));
        return others.length > 0 ? others : candidates;
      });
    }
    const selected: Selected = this.#selector.select({ filters });
    return {
      node: selected.node,
      done: (ctx, err) => {
        if (err === undefined) {
          selected.done();
          return;
        }
        const outcome = callOutcome(ctx, err);
        // A caller that gave up still ends the call (inflight counts must drop), blamelessly.
        selected.done(outcome === "failure" ? { error: err } : {});
      },
    };
  }

  close(): void {
    this.#resolver.close?.();
  }
}
