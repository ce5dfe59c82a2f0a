/**
 * Middleware: the one chain every transport runs, and the built-ins.
 *
 * @module
 */
export { chain } from "./middleware.js";
export type { Handler, Middleware } from "./middleware.js";
export { selector } from "./selector.js";
export type { SelectorOptions } from "./selector.js";
export { metadata } from "./metadata.js";
export type { MetadataClientOptions, MetadataServerOptions } from "./metadata.js";
export { recovery } from "./recovery.js";
export type { RecoveryOptions } from "./recovery.js";
export { validate } from "./validate.js";
export type { ValidateOptions } from "./validate.js";
export { logging } from "./logging.js";
export type { LoggingOptions } from "./logging.js";
export { tracing } from "./tracing.js";
export type { TracingOptions } from "./tracing.js";
export { latencyBuckets, metrics } from "./metrics.js";
export type { MetricsOptions } from "./metrics.js";
export { circuitBreaker, createSreBreaker } from "./circuitbreaker.js";
export type {
  Breaker,
  CircuitBreakerClientOptions,
  CircuitBreakerServerOptions,
  CircuitBreakerServerRuntime,
  SreBreaker,
  SreBreakerOptions,
} from "./circuitbreaker.js";
export { jwt } from "./jwt.js";
export { jwtClaims } from "./jwt-claims.js";
export type { JwtClientOptions, JwtKey, JwtServerOptions, JWTPayload } from "./jwt.js";
export { quota, quotaKeys } from "./quota.js";
export type { QuotaKey, QuotaLimiterSelector, QuotaOptions } from "./quota.js";
export { createBbrLimiter, createUtilizationSampler, ratelimit } from "./ratelimit.js";
export type {
  Admission,
  BbrLimiter,
  BbrOptions,
  BbrStats,
  Limiter,
  RateLimitOptions,
  UtilizationSampler,
  UtilizationSamplerOptions,
} from "./ratelimit.js";
export {
  backoffDefaults,
  backoffDelay,
  createRetryBudget,
  resolveRetryOptions,
  retry,
  retryBudgetDefaults,
  retryDefaults,
} from "./retry.js";
export type {
  BackoffOptions,
  ResolvedRetryOptions,
  RetryBudget,
  RetryBudgetOptions,
  RetryOptions,
  RetryRuntime,
} from "./retry.js";
export { bulkhead, bulkheadDefaults, createBulkheadState } from "./bulkhead.js";
export type { BulkheadOptions, BulkheadRuntime, BulkheadState } from "./bulkhead.js";
export { authz, matchesAny, operationMatcher, scopesOf } from "./authz.js";
export type { AuthzOptions, AuthzRule } from "./authz.js";
export {
  compileAuth,
  defaultJwksTimeout,
  defaultPublicOperations,
  jwtAlgorithms,
} from "./auth-config.js";
export type { AuthSettings, CompileAuthOptions } from "./auth-config.js";
export { followAuth, liveAuth } from "./auth-live.js";
export type { FollowAuthOptions } from "./auth-live.js";
export { liveSreBreaker } from "./live-breaker.js";
export type { SreBreakerSettings } from "./live-breaker.js";
