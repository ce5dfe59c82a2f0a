// The `rateLimit` policy kind: a rule's limit drives the quota middleware with a local limiter,
// or with one on Redis shared by every instance when the rule says `redis: true` and the app
// passed a Redis client. The Redis limiters are imported from their modules, which use ioredis
// as a type only: a service that never passes a client never loads ioredis.
import type { MeterProvider } from "@opentelemetry/api";
import { quota, quotaKeys } from "../middleware/quota.js";
import type { QuotaKey } from "../middleware/quota.js";
import { createFixedPeriodLimiter } from "../ratelimit/fixed-period.js";
import type { RateLimiter } from "../ratelimit/rate-limiter.js";
import { redisLimiterDefaults } from "../ratelimit/redis-fallback.js";
import type { RedisLimiterOptions } from "../ratelimit/redis-fallback.js";
import {
  createRedisFixedPeriodLimiter,
  createRedisTokenBucketLimiter,
} from "../ratelimit/redis-limiters.js";
import { createTokenBucketLimiter } from "../ratelimit/token-bucket.js";
import { describe } from "../config/value.js";
import { readBoolean, readNumber } from "./checks.js";
import { camelKey, readDuration, readMap } from "./fields.js";
import type { GovernanceIssues, GovernancePolicy } from "./policy.js";

/** What a call is counted under: see {@link rateLimitPolicy}. */
export type RateLimitKey =
  | { readonly from: "operation" | "jwtSubject" | "constant" }
  | { readonly from: "header" | "metadata"; readonly name: string };

/** The checked `rateLimit` of a rule. */
export type RateLimitSpec =
  | {
      readonly kind: "tokenBucket";
      /** Tokens per second. */
      readonly rate: number;
      readonly burst: number | undefined;
      readonly key: RateLimitKey;
      readonly redis: boolean;
    }
  | {
      readonly kind: "fixedPeriod";
      readonly limit: number;
      /** In ms. */
      readonly period: number | undefined;
      readonly key: RateLimitKey;
      readonly redis: boolean;
    };

/** Options of {@link rateLimitPolicy}. */
export interface RateLimitPolicyOptions {
  /**
   * The Redis client of rules with `redis: true` (`createRedisClient` from
   * `kratos-ts/ratelimit/redis`), made once by the app and closed by it after the store. Without
   * it such a rule is refused.
   */
  redis?: RedisLimiterOptions["client"] | undefined;
  /**
   * Prepended to the Redis keys, before the rule's name: instances (of any service) using the
   * same prefix and rule name share the limit. Default `kratos-ts:ratelimit:`.
   */
  prefix?: string | undefined;
  /** How long a call waits for Redis before the local fallback answers, in ms. Default 100. */
  redisTimeout?: number | undefined;
  /** Where rejections are counted. Default: the global provider. */
  meterProvider?: MeterProvider | undefined;
  /** The local limiters' clock in ms (monotonic). Default `performance.now`; tests inject one. */
  now?: (() => number) | undefined;
}

const kinds = { tokenBucket: "tokenBucket", fixedPeriod: "fixedPeriod" } as const;

/**
 * The `rateLimit` policy kind, server side (order 100): `{ kind: token_bucket, rate, burst }` or
 * `{ kind: fixed_period, limit, period }` (kind defaults from which of `rate` / `limit` is
 * given), `key: operation | header:<name> | metadata:<name> | jwt_subject | constant` (default
 * `operation`), `redis: true` to share the limit through the Redis client of `options.redis`.
 * Calls over the limit are answered 429 `RATE_LIMITED` (gRPC RESOURCE_EXHAUSTED), counted in
 * `server_rate_limited_total{operation, rule}` and marked on the span (`rate_limited`).
 *
 * A rule's counters live in its instance: an edit of the rule starts the local counters afresh
 * (the Redis ones, keyed by rule name, carry on). Closing the instance stops its Redis probe.
 */
export function rateLimitPolicy(
  options: RateLimitPolicyOptions = {},
): GovernancePolicy<RateLimitSpec> {
  return {
    name: "rateLimit",
    sides: ["server"],
    order: 100,
    compile: (raw, issues) => compileRateLimit(raw, issues, options.redis !== undefined),
    create(spec, { rule, logger }) {
      const limiter = makeLimiter(spec, rule, options, logger);
      const middleware = quota.server({
        limiter,
        key: keyOf(spec.key),
        name: rule,
        ...(options.meterProvider === undefined ? {} : { meterProvider: options.meterProvider }),
      });
      return {
        middleware,
        close() {
          limiter.close();
        },
      };
    },
  };
}

function makeLimiter(
  spec: RateLimitSpec,
  rule: string,
  options: RateLimitPolicyOptions,
  logger: RedisLimiterOptions["logger"],
): RateLimiter {
  const local = options.now === undefined ? {} : { now: options.now };
  if (!spec.redis || options.redis === undefined) {
    return spec.kind === "tokenBucket"
      ? createTokenBucketLimiter({ rate: spec.rate, burst: spec.burst, ...local })
      : createFixedPeriodLimiter({ limit: spec.limit, period: spec.period, ...local });
  }
  const shared: RedisLimiterOptions = {
    client: options.redis,
    prefix: `${options.prefix ?? redisLimiterDefaults.prefix}${rule}:`,
    ...(options.redisTimeout === undefined ? {} : { timeout: options.redisTimeout }),
    ...(logger === undefined ? {} : { logger }),
  };
  return spec.kind === "tokenBucket"
    ? createRedisTokenBucketLimiter({ ...shared, rate: spec.rate, burst: spec.burst })
    : createRedisFixedPeriodLimiter({ ...shared, limit: spec.limit, period: spec.period });
}

function keyOf(key: RateLimitKey): QuotaKey {
  switch (key.from) {
    case "operation":
      return quotaKeys.operation();
    case "jwtSubject":
      return quotaKeys.jwtSubject();
    case "constant":
      return quotaKeys.constant();
    case "header":
      return quotaKeys.header(key.name);
    case "metadata":
      return quotaKeys.metadata(key.name);
  }
}

const keyHint = "operation, header:<name>, metadata:<name>, jwt_subject or constant";

function readKey(raw: unknown, issues: GovernanceIssues): RateLimitKey | undefined {
  if (raw === undefined) return { from: "operation" };
  if (typeof raw === "string") {
    const colon = raw.indexOf(":");
    const head = camelKey(colon < 0 ? raw : raw.slice(0, colon));
    const name = colon < 0 ? "" : raw.slice(colon + 1).trim();
    if (head === "header" || head === "metadata") {
      if (name !== "") return { from: head, name: name.toLowerCase() };
      issues.report(["key"], `${describe(raw)} names no ${head} (${head}:<name>)`);
      return undefined;
    }
    if (colon < 0 && (head === "operation" || head === "jwtSubject" || head === "constant")) {
      return { from: head };
    }
  }
  issues.report(["key"], `unknown key ${describe(raw)} (${keyHint})`);
  return undefined;
}

function compileRateLimit(
  raw: unknown,
  issues: GovernanceIssues,
  hasRedis: boolean,
): RateLimitSpec | undefined {
  const fields = readMap(
    raw,
    issues,
    [],
    ["kind", "rate", "burst", "limit", "period", "key", "redis"],
  );
  if (fields === undefined) return undefined;
  let kind: keyof typeof kinds | undefined;
  const rawKind = fields["kind"];
  if (rawKind === undefined) {
    if (fields["limit"] !== undefined && fields["rate"] === undefined) kind = "fixedPeriod";
    else if (fields["rate"] !== undefined) kind = "tokenBucket";
    else issues.report([], "expected rate (token bucket) or limit (fixed period)");
  } else if (typeof rawKind === "string" && camelKey(rawKind) in kinds) {
    kind = kinds[camelKey(rawKind) as keyof typeof kinds];
  } else {
    issues.report(["kind"], `unknown kind ${describe(rawKind)} (token_bucket or fixed_period)`);
  }
  // Keys of the other kind are mistakes, not settings to ignore.
  const own = kind === "fixedPeriod" ? ["limit", "period"] : ["rate", "burst"];
  const other = kind === "fixedPeriod" ? ["rate", "burst"] : ["limit", "period"];
  if (kind !== undefined) {
    for (const key of other) {
      if (fields[key] !== undefined) {
        issues.report(
          [key],
          `not a setting of ${kind === "fixedPeriod" ? "fixed_period" : "token_bucket"} (it takes ${own.join(", ")})`,
        );
      }
    }
  }
  const key = readKey(fields["key"], issues);
  const redis = readBoolean(fields["redis"], issues, ["redis"]) ?? false;
  if (redis && !hasRedis) {
    issues.report(
      ["redis"],
      "no Redis client is configured (layout: data.redis.addr; code: rateLimitPolicy({ redis }))",
    );
  }
  const positive = { min: 0, above: true } as const;
  if (kind === "tokenBucket") {
    if (fields["rate"] === undefined) issues.report(["rate"], "required: tokens per second (> 0)");
    const rate = readNumber(fields["rate"], issues, ["rate"], positive);
    const burst = readNumber(fields["burst"], issues, ["burst"], positive);
    if (burst === undefined && fields["burst"] !== undefined) return undefined;
    if (rate === undefined || key === undefined) return undefined;
    return { kind, rate, burst, key, redis };
  }
  if (kind === "fixedPeriod") {
    if (fields["limit"] === undefined) issues.report(["limit"], "required: calls per period (> 0)");
    const limit = readNumber(fields["limit"], issues, ["limit"], positive);
    let period: number | undefined;
    if (fields["period"] !== undefined) {
      period = readDuration(fields["period"], issues, ["period"]);
      if (period === 0) issues.report(["period"], "must be above 0");
      if (period === undefined || period === 0) return undefined;
    }
    if (limit === undefined || key === undefined) return undefined;
    return { kind, limit, period, key, redis };
  }
  return undefined;
}
