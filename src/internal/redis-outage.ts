// The outage state of a Redis user that keeps serving without Redis (the rate limiters fall back
// to a local limit, the cache to its loader): the first failed call switches it to `down`, so
// later calls skip Redis instead of waiting on it; a background ping brings it back. Warnings
// are rate limited to one per interval, and failures while the client makes its first
// connection are no outage unless they outlast a grace period.
import type { Redis } from "ioredis";
import type { Logger } from "../log/logger.js";
import { withTimeout } from "./with-timeout.js";

/** Options of {@link redisOutage}. */
export interface RedisOutageOptions {
  client: Redis;
  /** How long a call (and a probe) waits for Redis, in ms. */
  timeout: number;
  /** At most one outage warning per this many ms. */
  warnInterval: number;
  /** How often to ping Redis while it is down, in ms. */
  probeInterval: number;
  logger: Logger;
  /** Fields of the warning and the recovery line (which limit, which cache, the prefix). */
  fields: Record<string, unknown>;
  /** The warning's message. */
  downMessage: string;
  /** The recovery line's message (info). */
  backMessage: string;
}

/** The state machine; see the file comment. */
export interface RedisOutage {
  /** Whether calls go to Redis (false from a failed call until a probe succeeds, and once closed). */
  up(): boolean;
  /** `promise` bounded by the timeout; a rejection is the caller's to pass to {@link failed}. */
  bound<T>(promise: Promise<T>): Promise<T>;
  /** Redis answered a call. */
  answered(): void;
  /** A call failed (error, timeout, unexpected reply): switch to down and report. */
  failed(err: unknown): void;
  /** Stops the probe; `up()` is false from now on. */
  close(): void;
}

// How long after the state is made a failure may be the client's first connection still
// being set up (not worth a warning unless the probe still fails after it).
const startupGrace = 2000;

/** Creates the outage state of one Redis user. */
export function redisOutage(options: RedisOutageOptions): RedisOutage {
  const { client, timeout, warnInterval, probeInterval, logger, fields } = options;
  const silent = `Redis did not answer within ${timeout} ms`;
  const created = Date.now();
  let up = true;
  let closed = false;
  let probe: ReturnType<typeof setInterval> | undefined;
  let probing = false;
  // Redis has answered at least once.
  let answered = false;
  // A failure not reported yet because the client may still be making its first connection.
  let pending = false;
  // The current outage was reported, so its end is logged too.
  let reported = false;
  let lastWarning = Number.NEGATIVE_INFINITY;
  let suppressed = 0;

  const report = (err: unknown) => {
    const now = Date.now();
    if (now - lastWarning < warnInterval) {
      suppressed++;
      return;
    }
    lastWarning = now;
    reported = true;
    logger.warn(
      {
        ...fields,
        err: err instanceof Error ? err.message : String(err),
        ...(suppressed > 0 && { outagesSinceLastWarning: suppressed }),
      },
      options.downMessage,
    );
    suppressed = 0;
  };

  const recovered = () => {
    if (probe !== undefined) clearInterval(probe);
    probe = undefined;
    if (closed) return;
    up = true;
    answered = true;
    pending = false;
    if (reported) logger.info(fields, options.backMessage);
    reported = false;
  };

  const probeFailed = (err: unknown) => {
    if (pending && Date.now() - created >= startupGrace) {
      pending = false;
      report(err);
    }
  };

  // A client whose own command timeout is no longer than ours (createRedisClient's is set from
  // the same setting) already bounds every call: a second timer per call would only cost time
  // on the hit path (bench:cache).
  const own = client.options.commandTimeout;
  const bound =
    typeof own === "number" && own <= timeout
      ? <T>(promise: Promise<T>) => promise
      : <T>(promise: Promise<T>) => withTimeout(promise, timeout, silent);

  return {
    up: () => up && !closed,
    bound,
    answered() {
      answered = true;
    },
    failed(err) {
      // Calls in flight when Redis went away fail together: one outage, one report.
      if (closed || !up) return;
      up = false;
      // Calls that come before the client's first connection is up are no outage yet; if it
      // lasts past the grace, the probe reports it.
      if (!answered && Date.now() - created < startupGrace) pending = true;
      else report(err);
      probe = setInterval(() => {
        if (probing) return;
        probing = true;
        void bound(client.ping())
          .then(recovered, probeFailed)
          .finally(() => {
            probing = false;
          });
      }, probeInterval);
      // A probe must not keep a process alive that has nothing else to do.
      probe.unref();
    },
    close() {
      closed = true;
      if (probe !== undefined) clearInterval(probe);
      probe = undefined;
    },
  };
}
