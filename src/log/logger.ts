/** One logging method: a message, or fields and a message (pino's calling convention). */
export interface LogFn {
  (msg: string): void;
  (fields: object, msg?: string): void;
}

/**
 * The logger the kit writes to. It is the part of pino's interface kratos-ts uses, so any pino
 * logger (or child) can be passed where a `Logger` is asked for, and so can anything else that
 * takes `(fields, msg)`.
 */
export interface Logger {
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  /** A logger that adds `bindings` to every line. */
  child(bindings: Record<string, unknown>): Logger;
  /** Whether lines of `level` are written (pino has it; others may leave it out). */
  isLevelEnabled?(level: string): boolean;
}

/** The levels of {@link createLogger}, least to most severe, plus `silent`. */
export type LogLevel = "trace" | "debug" | "info" | "warn" | "error" | "fatal" | "silent";

const levels: readonly string[] = ["trace", "debug", "info", "warn", "error", "fatal", "silent"];

/** Whether `value` names a level of {@link createLogger} (for config validation). */
export function isLogLevel(value: unknown): value is LogLevel {
  return typeof value === "string" && levels.includes(value);
}

/** A logger that writes nothing: the default of library parts that may log. */
export const discardLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => discardLogger,
  isLevelEnabled: () => false,
};
