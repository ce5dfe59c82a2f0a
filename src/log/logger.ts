import { context, isSpanContextValid, trace } from "@opentelemetry/api";
import { pino } from "pino";
import type { DestinationStream } from "pino";

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

/** The logger {@link createLogger} returns: its level can be changed while it runs. */
export interface LevelLogger extends Logger {
  /** The lowest level written; assign a {@link LogLevel} to change it (config hot reload). */
  level: string;
}

/** The levels of {@link createLogger}, least to most severe, plus `silent`. */
export type LogLevel = "trace" | "debug" | "info" | "warn" | "error" | "fatal" | "silent";

/** Options of {@link createLogger}; every field is optional. */
export interface LoggerOptions {
  /** The lowest level written. Default `info`. */
  level?: LogLevel;
  /** Identity written on every line as `service.id`, `service.name`, `service.version`. */
  service?: { id?: string; name?: string; version?: string };
  /** Where lines go. Default standard output. */
  destination?: DestinationStream;
}

const levels: readonly string[] = ["trace", "debug", "info", "warn", "error", "fatal", "silent"];

/** Whether `value` names a level of {@link createLogger} (for config validation). */
export function isLogLevel(value: unknown): value is LogLevel {
  return typeof value === "string" && levels.includes(value);
}

/**
 * Creates the kit's JSON-lines logger (pino underneath): `level` as a name, `time` as ISO 8601,
 * `msg`, the service identity, and `trace.id` / `span.id` whenever an OpenTelemetry span is
 * active, so a request's lines can be joined to its trace.
 */
export function createLogger(options: LoggerOptions = {}): LevelLogger {
  const service = options.service ?? {};
  const base: Record<string, string> = {};
  if (service.id !== undefined) base["service.id"] = service.id;
  if (service.name !== undefined) base["service.name"] = service.name;
  if (service.version !== undefined) base["service.version"] = service.version;
  return pino(
    {
      level: options.level ?? "info",
      base,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      mixin: traceFields,
    },
    options.destination ?? pino.destination({ fd: 1, sync: false }),
  );
}

// Reads the active span through the OpenTelemetry API: without an SDK and a context manager
// there is never one, and this costs one lookup per line. Returns a fresh object every time:
// pino merges the line's fields into it, so a shared one would carry them to later lines.
function traceFields(): object {
  const span = trace.getSpan(context.active());
  if (span === undefined) return {};
  const sc = span.spanContext();
  if (!isSpanContextValid(sc)) return {};
  return { "trace.id": sc.traceId, "span.id": sc.spanId };
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
