import { durationHint, parseDurationNanos } from "./duration.js";
import { ConfigError } from "./source.js";
import { isMap } from "./tree.js";

/** One value of the config, read with typed getters that name the key and file on a mismatch. */
export interface Value {
  /** The dotted key. */
  readonly path: string;
  /** False when the key is not in the config. */
  readonly exists: boolean;
  /**
   * The file or source that set the value (a file path, `env`, `etcd:<key>`); for a key that is
   * not set, the nearest parent's; undefined when no source has any part of it. Name it in your
   * own errors about the value: `new ConfigError(why, { file: value.origin, key: value.path })`.
   */
  readonly origin: string | undefined;
  /** The value as loaded (a copy: changing it changes nothing). */
  raw(): unknown;
  /** A string; numbers and booleans are converted. */
  string(): string;
  /** A number; numeric strings (from env) are converted. */
  number(): number;
  /** A boolean; `"true"` / `"false"` strings are converted. */
  bool(): boolean;
  /** Milliseconds: a number is taken as milliseconds, a string as a Go duration (`1m30s`). */
  duration(): number;
  list(): unknown[];
  map(): Record<string, unknown>;
}

/** Creates the {@link Value} of `path`; `origin` is named in errors. */
export function createValue(path: string, value: unknown, origin: string | undefined): Value {
  const fail = (expected: string): never => {
    if (value === undefined) throw new ConfigError("not set", { key: path });
    throw new ConfigError(`expected ${expected}, got ${describe(value)}`, {
      file: origin,
      key: path,
    });
  };
  return {
    path,
    exists: value !== undefined,
    origin,
    raw: () => structuredClone(value),
    string() {
      if (typeof value === "string") return value;
      if (typeof value === "number" || typeof value === "boolean") return String(value);
      return fail("a string");
    },
    number() {
      if (typeof value === "number") return value;
      if (typeof value === "string" && value.trim() !== "" && Number.isFinite(Number(value))) {
        return Number(value);
      }
      return fail("a number");
    },
    bool() {
      if (typeof value === "boolean") return value;
      if (value === "true" || value === "false") return value === "true";
      return fail("true or false");
    },
    duration() {
      if (typeof value === "number") return value;
      if (typeof value === "string") {
        const nanos = parseDurationNanos(value);
        if (nanos !== undefined) return nanos / 1e6;
        throw new ConfigError(`unknown duration ${describe(value)} (${durationHint})`, {
          file: origin,
          key: path,
        });
      }
      return fail("a duration");
    },
    list() {
      return Array.isArray(value) ? (structuredClone(value) as unknown[]) : fail("a list");
    },
    map() {
      return isMap(value) ? structuredClone(value) : fail("a map");
    },
  };
}

/** A short JSON rendering of a bad value for error messages. */
export function describe(value: unknown): string {
  // JSON.stringify returns undefined for undefined itself.
  const text = value === undefined ? "undefined" : JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
