// What a routing middleware (a governance `route` rule) tells the node picker about one call:
// which nodes the call may go to. Carried in the call's context, as the retry hints are, so
// that the rule is decided in middleware (where the call's operation and headers are known) and
// applied in the picker (where the live nodes are known), before the balancer picks.
import { createContextKey } from "../context.js";
import type { Context } from "../context.js";
import type { NodeFilter } from "../selector/selector.js";

const routeKey = createContextKey<NodeFilter | undefined>(undefined, "route filter");

/**
 * Restricts the nodes this call may go to: the picker applies `filter` to the live nodes (less
 * those the call already tried) before the balancer picks. A filter that returns no node makes
 * the call fail with 503 NODE_NOT_FOUND; it may also throw its own error. A later call of
 * `routeNodes` on the same call replaces the filter.
 */
export function routeNodes(ctx: Context, filter: NodeFilter): void {
  ctx.values.set(routeKey, filter);
}

/** The filter a routing middleware set for this call, if any. */
export function routedNodes(ctx: Context): NodeFilter | undefined {
  return ctx.values.get(routeKey);
}
