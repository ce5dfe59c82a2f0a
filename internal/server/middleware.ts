import { governance } from "kratos-ts/governance";
import type { GovernanceStore } from "kratos-ts/governance";
import { logging, metrics, recovery, tracing, validate } from "kratos-ts/middleware";
import type { Middleware } from "kratos-ts/middleware";
import type { Logger } from "kratos-ts/log";

/**
 * The layout's default chain, the same on HTTP and gRPC, in Kratos's order:
 *
 * 1. recovery, outermost: a bug in anything below answers 500 `UNKNOWN`, logged with its stack;
 * 2. tracing: the span covers the rest, so the log line of the call carries its trace id;
 * 3. logging: one line per call with code, reason and latency;
 * 4. metrics: request counts and latencies for /metrics, bad requests included;
 * 5. governance: the live rules of `governance` (fault injection, ...); below the three
 *    above, so an injected fault is logged, counted and traced like a real failure, and above
 *    validate, so a drill hits every call, valid or not;
 * 6. validate, innermost: handlers only see requests that keep their buf.validate rules.
 */
export function layoutMiddleware(log: Logger, rules: GovernanceStore): Middleware[] {
  return [
    recovery({ logger: log }),
    tracing.server(),
    logging.server({ logger: log }),
    metrics.server(),
    governance.server({ store: rules }),
    validate(),
  ];
}
