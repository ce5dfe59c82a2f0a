import { governance } from "kratos-ts/governance";
import type { GovernanceStore } from "kratos-ts/governance";
import {
  liveAuth,
  logging,
  metrics,
  ratelimit,
  recovery,
  tracing,
  validate,
} from "kratos-ts/middleware";
import type { Middleware } from "kratos-ts/middleware";
import type { Logger } from "kratos-ts/log";
import type { LiveSettings } from "../conf/tokens.js";

/**
 * The layout's default chain, the same on HTTP and gRPC, in Kratos's order:
 *
 * 1. recovery, outermost: a bug in anything below answers 500 `UNKNOWN`, logged with its stack;
 * 2. tracing: the span covers the rest, so the log line of the call carries its trace id;
 * 3. logging: one line per call with code, reason and latency;
 * 4. metrics: request counts and latencies for /metrics, bad requests included;
 * 5. ratelimit: BBR shedding while `server.bbr.enabled` (read per call, so it switches live);
 *    early, so a shed call costs little, and below logging and metrics, so it is seen;
 * 6. auth: `auth` (JWT, then the authorisation rules), live; below logging and metrics, so a
 *    401 or 403 is logged and counted, and above governance, so an unauthenticated call takes
 *    no bulkhead slot or rate-limit token, and rate limits keyed on the JWT subject see it;
 * 7. governance: the live rules of `governance` (fault injection, ...); above validate, so a
 *    drill hits every call, valid or not;
 * 8. validate, innermost: handlers only see requests that keep their buf.validate rules.
 *
 * Each server gets its own chain (and so its own BBR limiter).
 */
export function layoutMiddleware(
  log: Logger,
  rules: GovernanceStore,
  live: LiveSettings,
): Middleware[] {
  return [
    recovery({ logger: log }),
    tracing.server(),
    logging.server({ logger: log }),
    metrics.server(),
    ratelimit.server({ enabled: () => live.bbr.current }),
    liveAuth(live.auth),
    governance.server({ store: rules }),
    validate(),
  ];
}
