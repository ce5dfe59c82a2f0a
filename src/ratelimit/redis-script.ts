import { createHash } from "node:crypto";
import type { Redis } from "ioredis";

/** A Lua script run by its SHA1 (EVALSHA), sent whole only when Redis does not know it yet. */
export interface RedisScript {
  readonly source: string;
  readonly sha: string;
}

/** Prepares a script: its SHA1 is computed once, here. */
export function defineScript(source: string): RedisScript {
  return { source, sha: createHash("sha1").update(source).digest("hex") };
}

/**
 * Runs `script` with EVALSHA, falling back to EVAL (which also caches it) when Redis answers
 * NOSCRIPT: the first call after Redis starts, restarts or is flushed. Done here rather than with
 * ioredis's `defineCommand`, which adds a method to the shared client for every script name.
 */
export async function runScript(
  client: Redis,
  script: RedisScript,
  keys: readonly string[],
  args: readonly (string | number)[],
): Promise<unknown> {
  try {
    return await client.evalsha(script.sha, keys.length, ...keys, ...args);
  } catch (err) {
    if (!(err instanceof Error) || !err.message.startsWith("NOSCRIPT")) throw err;
    return await client.eval(script.source, keys.length, ...keys, ...args);
  }
}

/**
 * The token bucket (go-zero `tokenlimit`, one hash per key instead of two keys, so the script
 * needs no hash tags on a cluster). The time is Redis's own (TIME), so instances whose clocks
 * differ still share one bucket fairly; fractional tokens are kept, so rates below one per
 * second and sub-second refills work. `replicate_commands` lets TIME precede writes on Redis
 * before 5 (a no-op on later ones, where effects are always replicated).
 * KEYS[1] the bucket; ARGV: tokens per ms, burst, tokens requested, TTL in ms.
 * Returns 1 when the tokens were taken, 0 when not.
 */
export const tokenBucketScript = defineScript(`
if redis.replicate_commands then redis.replicate_commands() end
local per_ms = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local requested = tonumber(ARGV[3])
local ttl = tonumber(ARGV[4])
local time = redis.call("TIME")
local now = tonumber(time[1]) * 1000 + tonumber(time[2]) / 1000
local state = redis.call("HMGET", KEYS[1], "tokens", "at")
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * per_ms)
local allowed = 0
if tokens >= requested then
  tokens = tokens - requested
  allowed = 1
end
redis.call("HSET", KEYS[1], "tokens", tostring(tokens), "at", tostring(math.max(now, at)))
redis.call("PEXPIRE", KEYS[1], ttl)
return allowed
`);

/**
 * The fixed period (go-zero `periodlimit`): a counter that expires one period after the first
 * call of the period. Unlike go-zero's, a refused call adds nothing, so a request larger than
 * what is left does not use up the rest of the period.
 * KEYS[1] the counter; ARGV: limit, period in ms, tokens requested.
 * Returns 1 when the tokens were taken, 0 when not.
 */
export const fixedPeriodScript = defineScript(`
local limit = tonumber(ARGV[1])
local period = tonumber(ARGV[2])
local requested = tonumber(ARGV[3])
local count = tonumber(redis.call("GET", KEYS[1]) or "0")
if count + requested > limit then
  return 0
end
if redis.call("INCRBY", KEYS[1], requested) == requested then
  redis.call("PEXPIRE", KEYS[1], period)
end
return 1
`);
