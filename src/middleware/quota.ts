import type { MeterProvider } from "@opentelemetry/api";
import type { Context } from "../context.js";
import { KratosError } from "../errors/error.js";
import { reasons } from "../errors/reasons.js";
import { resilienceTelemetry } from "../internal/resilience-telemetry.js";
import { clientMetadata, serverMetadata } from "../metadata/metadata.js";
import type { RateLimiter } from "../ratelimit/rate-limiter.js";
import { clientTransport, serverTransport } from "../transport/transport.js";
import { jwtClaims } from "./jwt-claims.js";
import type { Handler, Middleware } from "./middleware.js";

/**
 * Picks the key a call is counted under. A string (possibly empty: every call without the value
 * shares one key); `undefined` exempts the call from the limit.
 */
export type QuotaKey = (ctx: Context, req: unknown) => string | undefined;

/** Picks the limiter of a call (a live rule table, say); `undefined`: no limit applies. */
export type QuotaLimiterSelector = (ctx: Context, req: unknown) => RateLimiter | undefined;

/** Options of {@link quota}. */
export interface QuotaOptions {
  /**
   * The limiter every call goes through (`createTokenBucketLimiter`, `createFixedPeriodLimiter`,
   * or a Redis one from `kratos-ts/ratelimit/redis`), or a function that picks one per call, so
   * limiters can be swapped at run time without rebuilding the chain.
   */
  limiter: RateLimiter | QuotaLimiterSelector;
  /** The key a call counts under. Default {@link quotaKeys.operation}: one limit per operation. */
  key?: QuotaKey;
  /** Tokens one call takes. Default 1. */
  cost?: number;
  /** The rule's name, for the metrics' `rule` label and the span events. Default "". */
  name?: string;
  /** Where rejections are counted. Default: the global provider. */
  meterProvider?: MeterProvider;
}

function transportOf(ctx: Context) {
  return serverTransport(ctx) ?? clientTransport(ctx);
}

/**
 * Key functions for {@link QuotaOptions.key}. A call without the value (no header, no token)
 * gets the empty key: all such callers share one limit, so leaving a header out is no way
 * around it.
 */
export const quotaKeys = {
  /** The same key for every call: one limit for everything the middleware guards. */
  constant(value = ""): QuotaKey {
    return () => value;
  },
  /** The operation, `/helloworld.v1.Greeter/SayHello`: one limit per method. */
  operation(): QuotaKey {
    return (ctx) => transportOf(ctx)?.operation ?? "";
  },
  /** A request header (gRPC: request metadata), such as `x-api-key`. */
  header(name: string): QuotaKey {
    return (ctx) => transportOf(ctx)?.requestHeader.get(name) ?? "";
  },
  /**
   * A Kratos metadata value (`x-md-user`): on a server as the metadata middleware received it,
   * on a client as the call sends it.
   */
  metadata(name: string): QuotaKey {
    return (ctx) => (serverMetadata(ctx) ?? clientMetadata(ctx))?.get(name) ?? "";
  },
  /** The `sub` claim that the jwt middleware verified (put jwt before quota in the chain). */
  jwtSubject(): QuotaKey {
    return (ctx) => jwtClaims(ctx)?.sub ?? "";
  },
  /**
   * Several keys joined with `|`, such as operation and subject for a limit per user per method.
   * If any part exempts the call (`undefined`), so does the whole.
   */
  join(...parts: QuotaKey[]): QuotaKey {
    return (ctx, req) => {
      let key = "";
      for (let i = 0; i < parts.length; i++) {
        const part = parts[i]?.(ctx, req);
        if (part === undefined) return undefined;
        key = i === 0 ? part : `${key}|${part}`;
      }
      return key;
    };
  },
};

function exceeded(limiter: RateLimiter): KratosError {
  return new KratosError(429, reasons.rateLimited, `rate limit exceeded: ${limiter.description}`);
}

function build(options: QuotaOptions, side: "server" | "client"): Middleware {
  const select: QuotaLimiterSelector =
    typeof options.limiter === "function" ? options.limiter : constantLimiter(options.limiter);
  const key = options.key ?? quotaKeys.operation();
  const cost = options.cost ?? 1;
  const telemetry = resilienceTelemetry(options.name ?? "", options.meterProvider);
  const counter = side === "server" ? "rateLimited" : "clientRateLimited";
  const reject = (ctx: Context, limiter: RateLimiter): Promise<never> => {
    telemetry.count(counter, transportOf(ctx)?.operation ?? "", "rate_limited", {
      limit: limiter.description,
    });
    return Promise.reject(exceeded(limiter));
  };
  return (next: Handler) =>
    function quota(ctx, req) {
      const limiter = select(ctx, req);
      if (limiter === undefined) return next(ctx, req);
      const k = key(ctx, req);
      if (k === undefined) return next(ctx, req);
      const allowed = limiter.take(k, cost);
      // A local limiter answers synchronously: no promise, no extra tick on the hot path.
      if (allowed === true) return next(ctx, req);
      if (allowed === false) return reject(ctx, limiter);
      return allowed.then((ok) => (ok ? next(ctx, req) : reject(ctx, limiter)));
    };
}

function constantLimiter(limiter: RateLimiter): QuotaLimiterSelector {
  return () => limiter;
}

/**
 * Rate limits by key (go-zero `tokenlimit` / `periodlimit` as middleware): each call takes
 * `cost` tokens from the limiter under the key `key` picks; when there are none left it fails
 * at once with 429 reason `RATE_LIMITED` (gRPC RESOURCE_EXHAUSTED) and a message naming the
 * limit, without running the handler. Each rejection counts in `server_rate_limited_total`
 * (`client_rate_limited_total` on a client) with labels `operation` and `rule`, and marks the
 * active span (`rate_limited`). Unlike `ratelimit` (adaptive shedding of an overloaded
 * process), this enforces a configured rate. On a client it limits what the client sends.
 *
 * ```ts
 * quota.server({ limiter: createTokenBucketLimiter({ rate: 100, burst: 200 }), key: quotaKeys.jwtSubject() })
 * ```
 */
export const quota = {
  server(options: QuotaOptions): Middleware {
    return build(options, "server");
  },
  client(options: QuotaOptions): Middleware {
    return build(options, "client");
  },
};
