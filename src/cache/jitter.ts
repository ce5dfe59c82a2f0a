// TTL jitter (cache avalanche): entries written together, e.g. after a deploy or a cold start,
// would all expire in the same instant and send their loads to the database together. go-zero
// spreads them by ±5% of the TTL; the deviation here is an option.

/**
 * `ttl` spread uniformly over [ttl × (1 − deviation), ttl × (1 + deviation)], rounded to whole
 * ms and never below 1. `random` returns [0, 1) (Math.random; injected by tests).
 */
export function jitteredTtl(ttl: number, deviation: number, random: () => number): number {
  if (deviation <= 0) return Math.max(1, Math.round(ttl));
  const factor = 1 - deviation + 2 * deviation * random();
  return Math.max(1, Math.round(ttl * factor));
}

/** Throws a RangeError unless `value` is a finite number of ms above 0. */
export function requireTtl(name: string, value: number): void {
  if (!Number.isFinite(value) || value <= 0) {
    throw new RangeError(`cache: ${name} must be a finite number of ms above 0, got ${value}`);
  }
}
