/**
 * Logging: the {@link Logger} contract the kit writes to, and {@link createLogger}, JSON lines
 * through pino with the service identity and the active trace on every line.
 *
 * @module
 */
export { createLogger } from "./create-logger.js";
export type { LevelLogger, LoggerOptions } from "./create-logger.js";
export { discardLogger, isLogLevel } from "./logger.js";
export type { LogFn, Logger, LogLevel } from "./logger.js";
export { turnBuffer } from "./turn-buffer.js";
export type { LineSink, TurnBuffer, TurnBufferOptions } from "./turn-buffer.js";
