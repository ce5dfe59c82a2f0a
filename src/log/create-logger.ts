import { context, isSpanContextValid, trace } from "@opentelemetry/api";
import { pino } from "pino";
import type { DestinationStream } from "pino";
import type { Logger, LogLevel } from "./logger.js";
import { turnBuffer } from "./turn-buffer.js";
import type { TurnBuffer } from "./turn-buffer.js";

/** The logger {@link createLogger} returns: its level can be changed while it runs. */
export interface LevelLogger extends Logger {
  /** The lowest level written; assign a {@link LogLevel} to change it (config hot reload). */
  level: string;
}

/** Options of {@link createLogger}; every field is optional. */
export interface LoggerOptions {
  /** The lowest level written. Default `info`. */
  level?: LogLevel;
  /** Identity written on every line as `service.id`, `service.name`, `service.version`. */
  service?: { id?: string; name?: string; version?: string };
  /**
   * Where lines go. Default standard output: the lines of one event-loop turn are written
   * together, synchronously, at the end of the turn ({@link turnBuffer}); error lines at once.
   */
  destination?: DestinationStream;
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
      timestamp: isoTime,
      formatters: { level: (label) => ({ level: label }) },
      mixin: traceFields,
    },
    // Synchronous: an asynchronous destination fell behind under load (sonic-boom writes at
    // most 16 KiB per event-loop turn), holding the lines not yet written in memory without
    // bound (+110 MiB after 10 s of gRPC load, 56% of the lines still unwritten) and losing
    // them on a crash. One write per turn, not per line: a write is a system call (~2 us here),
    // and a service logging every call spent more on them than on making the lines.
    options.destination ?? stdoutBuffer(),
  );
}

let stdout: TurnBuffer | undefined;

/**
 * The one buffer in front of standard output that every default logger shares: lines of several
 * loggers leave in the order they were logged, and an error line of one writes the others' held
 * lines before it.
 */
function stdoutBuffer(): TurnBuffer {
  return (stdout ??= turnBuffer(pino.destination({ fd: 1, sync: true })));
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

let lastMs = Number.NaN;
let lastTime = "";

/**
 * pino's `isoTime`, formatted once per millisecond: a service logging every call writes many
 * lines per millisecond, and `toISOString` was a tenth of the cost of each line.
 */
function isoTime(): string {
  const now = Date.now();
  if (now !== lastMs) {
    lastMs = now;
    lastTime = `,"time":"${new Date(now).toISOString()}"`;
  }
  return lastTime;
}
