// The governance middleware: finds the rules of a call in the store's current snapshot and runs
// the call through the policies they choose. With no rules it is one property read and a branch.
import type { Context } from "../context.js";
import type { Handler, Middleware } from "../middleware/middleware.js";
import { clientTransport, serverTransport } from "../transport/transport.js";
import type { Transporter } from "../transport/transport.js";
import type { GovernanceSide } from "./policy.js";
import type { BoundPolicy, RuleSet } from "./rule-set.js";
import type { GovernanceStore } from "./store.js";

/** Options of {@link governance}. */
export interface GovernanceOptions {
  /** The live rules (`createGovernanceStore`, `followGovernance`). */
  store: GovernanceStore;
}

/**
 * Applies the store's rules to calls (fault injection, and the policies plugged into the
 * store): `server` governs the calls a server handles, `client` the calls a client makes, on
 * every transport. A call reads the rules once, when it reaches this middleware, and finishes
 * under them whatever changes meanwhile. Place it after recovery, tracing, logging and metrics,
 * so that what the rules do is logged, traced and counted like any other outcome; on a client,
 * after `metadata.client` when rules match `x-md-*` headers.
 */
export const governance = {
  server(options: GovernanceOptions): Middleware {
    return build("server", serverTransport, options.store);
  },
  client(options: GovernanceOptions): Middleware {
    return build("client", clientTransport, options.store);
  },
};

function build(
  side: GovernanceSide,
  transportOf: (ctx: Context) => Transporter | undefined,
  store: GovernanceStore,
): Middleware {
  return (next) => {
    // The composed handlers of this chain position, per choice of policies; dropped whenever
    // the snapshot changes (their instances may be gone).
    let cachedFor: RuleSet | undefined;
    let cache = new Map<string, Handler>();
    const compose = (set: RuleSet, chosen: readonly BoundPolicy[]): Handler => {
      if (cachedFor !== set) {
        cachedFor = set;
        cache = new Map();
      }
      const key = chosen.map((b) => b.id).join(",");
      let handler = cache.get(key);
      if (handler === undefined) {
        handler = next;
        for (let i = chosen.length - 1; i >= 0; i--) {
          const bound = chosen[i];
          if (bound !== undefined) handler = bound.instance.middleware(handler);
        }
        if (cache.size < 1_000) cache.set(key, handler);
      }
      return handler;
    };
    return function governance(ctx, req) {
      const set = store.current;
      if (set.empty) return next(ctx, req);
      const transport = transportOf(ctx);
      if (transport === undefined) return next(ctx, req);
      const plan = set.plan(side, transport.operation);
      if (plan.rules.length === 0) return next(ctx, req);
      const chosen = set.policiesFor(plan, side, transport.requestHeader);
      if (chosen.length === 0) return next(ctx, req);
      return compose(set, chosen)(ctx, req);
    };
  };
}
