import { Redis } from "ioredis";
import { discardLogger } from "../log/logger.js";
import type { Logger } from "../log/logger.js";

/** Options of {@link createRedisClient}; every field is optional. */
export interface RedisClientOptions {
  /** `redis://[user:password@]host:port[/db]` (or `rediss://` for TLS). Default `redis://127.0.0.1:6379`. */
  url?: string;
  /** How long to wait for a connection, in ms. Default 1000. */
  connectTimeout?: number;
  /** How long any command may take before it fails, in ms. Default 100. */
  commandTimeout?: number;
  /** The longest pause between reconnect attempts, in ms (attempt k waits min(50 k, this)). Default 1000. */
  maxReconnectDelay?: number;
  /** Connection errors are logged here at debug level (limiters and caches warn about outages themselves). Default: nowhere. */
  logger?: Logger;
}

/** The defaults of {@link RedisClientOptions}. */
export const redisClientDefaults = {
  url: "redis://127.0.0.1:6379",
  connectTimeout: 1000,
  commandTimeout: 100,
  maxReconnectDelay: 1000,
} as const;

/**
 * Creates an ioredis client set up to fail fast, as a rate limit needs: no offline queue (a
 * command while disconnected fails at once instead of waiting for the reconnect), no retry or
 * resend of commands cut off by a lost connection, a short command timeout, and endless
 * reconnects in the background. It has an `error` listener, so a lost Redis never crashes the
 * process. It connects at once; until then, limiters answer from their local fallback and the
 * cache from its loader. Close it with `quit()` (or `disconnect()`) when every user is gone.
 * Throws a RangeError naming the URL when it is not a `redis://` or `rediss://` URL with a
 * valid port and db (ioredis would say only "Invalid URL", or quietly use another scheme).
 */
export function createRedisClient(options: RedisClientOptions = {}): Redis {
  const logger = options.logger ?? discardLogger;
  const maxDelay = options.maxReconnectDelay ?? redisClientDefaults.maxReconnectDelay;
  const url = options.url ?? redisClientDefaults.url;
  checkRedisUrl(url);
  const client = new Redis(url, {
    connectTimeout: options.connectTimeout ?? redisClientDefaults.connectTimeout,
    commandTimeout: options.commandTimeout ?? redisClientDefaults.commandTimeout,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    retryStrategy: (attempt) => Math.min(attempt * 50, maxDelay),
  });
  client.on("error", (err: unknown) => {
    logger.debug({ err: err instanceof Error ? err.message : String(err) }, "redis client error");
  });
  return client;
}

/** Throws a RangeError naming `url` unless ioredis would connect where it says. */
export function checkRedisUrl(url: string): void {
  const bad = (why: string) => new RangeError(`invalid Redis URL "${url}": ${why}`);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw bad("expected redis://host:port or rediss://host:port");
  }
  if (parsed.protocol !== "redis:" && parsed.protocol !== "rediss:") {
    throw bad(`the scheme must be redis: or rediss:, not ${parsed.protocol}`);
  }
  if (parsed.hostname === "") throw bad("no host");
  const db = parsed.pathname.replace(/^\//, "");
  if (db !== "" && !/^\d+$/.test(db)) throw bad(`the db "${db}" is not a number`);
}
