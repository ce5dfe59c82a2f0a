/**
 * Rate limits by key: local token bucket and fixed period limiters, and the `quota` middleware
 * that applies them. The Redis-backed limiters are in `kratos-ts/ratelimit/redis`, so that
 * services without Redis never load its client.
 *
 * @module
 */
export { createTokenBucketLimiter } from "./token-bucket.js";
export type { TokenBucketOptions } from "./token-bucket.js";
export { createFixedPeriodLimiter } from "./fixed-period.js";
export type { FixedPeriodOptions } from "./fixed-period.js";
export type { LocalLimiterOptions, LocalRateLimiter, RateLimiter } from "./rate-limiter.js";
export { quota, quotaKeys } from "../middleware/quota.js";
export type { QuotaKey, QuotaLimiterSelector, QuotaOptions } from "../middleware/quota.js";
