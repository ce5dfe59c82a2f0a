/**
 * kratos-ts: Go Kratos, done natively in TypeScript.
 *
 * Each concept also has its own entry point (`kratos-ts/errors`, `kratos-ts/transport/http`,
 * ...); this root module re-exports them, errors as a namespace the way Kratos code reads
 * (`errors.notFound(...)`).
 *
 * @module
 */
export * as errors from "./errors/index.js";
export { KratosError } from "./errors/index.js";
export { createContext, createContextKey, createContextValues } from "./context.js";
export type { Context, ContextKey, ContextValues } from "./context.js";
export {
  chain,
  circuitBreaker,
  jwt,
  jwtClaims,
  logging,
  metrics,
  quota,
  quotaKeys,
  ratelimit,
  recovery,
  selector,
  tracing,
  validate,
} from "./middleware/index.js";
export type { Handler, Middleware } from "./middleware/index.js";
export { clientTransport, serverTransport } from "./transport/index.js";
export type { Header, Kind, Server, Transporter } from "./transport/index.js";
export { createHttpServer, setResponseStatus } from "./transport/http/index.js";
export type { HttpServer, HttpServerOptions } from "./transport/http/index.js";
export { createLogger, discardLogger } from "./log/index.js";
export type { LevelLogger, LogFn, Logger, LoggerOptions, LogLevel } from "./log/index.js";
export { appInfo, createApp } from "./app.js";
export type { App, AppHook, AppInfo, AppOptions } from "./app.js";
// The registry subpath also has the etcd registry; the root stays free of the etcd client.
export { createMemoryRegistry } from "./registry/memory.js";
export type { MemoryRegistry } from "./registry/memory.js";
export type { Discovery, Registrar, ServiceInstance, Watcher } from "./registry/registry.js";
export { ConfigError, createConfig, envSource, fileSource } from "./config/index.js";
export type {
  Config,
  ConfigOptions,
  EnvSourceOptions,
  Source,
  SourceData,
  Value,
} from "./config/index.js";
