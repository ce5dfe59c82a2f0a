/**
 * Logging: the {@link Logger} contract the kit writes to, and {@link createLogger}, JSON lines
 * through pino with the service identity and the active trace on every line.
 *
 * @module
 */
export { createLogger, discardLogger, isLogLevel } from "./logger.js";
export type { LevelLogger, LogFn, Logger, LoggerOptions, LogLevel } from "./logger.js";
