// A live setting: one value behind one reference, read by middleware and selectors on every call
// (a property read, nothing more) and swapped whole when the config changes. Parsing happens
// once per change, in the watcher, never on the call path.
import type { Logger } from "../log/logger.js";
import type { Config } from "./config.js";
import type { Value } from "./value.js";

/** A setting that may change while calls run; read {@link Live.current} once per call. */
export interface Live<T> {
  /** The current value; a call reads it once when it starts and keeps what it got. */
  readonly current: T;
}

/** A {@link Live} you set yourself (tests, your own sources). */
export interface LiveValue<T> extends Live<T> {
  set(value: T): void;
}

/** A fixed or settable live value starting at `initial`. */
export function liveValue<T>(initial: T): LiveValue<T> {
  let current = initial;
  return {
    get current() {
      return current;
    },
    set(value: T) {
      current = value;
    },
  };
}

/** Options of {@link followLive}. */
export interface FollowLiveOptions {
  /** Where applied and refused changes are reported. Default: nowhere. */
  logger?: Logger;
}

/** A {@link Live} that follows a config key until {@link FollowedLive.close}. */
export interface FollowedLive<T> extends Live<T> {
  /** Stops following the config; the last value stays. */
  close(): void;
}

/**
 * Parses `path` of `config` now (throws what `parse` throws, so a bad value fails the start with
 * its `ConfigError`: file and key in one line) and again on every reload that changes it. A
 * change that `parse` refuses logs one warning naming the file and key and keeps the last good
 * value, so a typo in a live edit never stops a service or half-applies.
 */
export function followLive<T>(
  config: Config,
  path: string,
  parse: (value: Value) => T,
  options: FollowLiveOptions = {},
): FollowedLive<T> {
  const log = options.logger;
  const live = liveValue(parse(config.value(path)));
  const stop = config.watch(path, (value) => {
    let next: T;
    try {
      next = parse(value);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      log?.warn({ key: path, file: value.origin }, `${message}; keeping the last good settings`);
      return;
    }
    live.set(next);
    log?.info({ key: path }, "config changed");
  });
  return {
    get current() {
      return live.current;
    },
    close: stop,
  };
}
