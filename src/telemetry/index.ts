/**
 * Observability setup: starts the OpenTelemetry SDK that the tracing and metrics middleware
 * and the logger's trace ids use.
 *
 * @module
 */
export { startTelemetry } from "./telemetry.js";
export type { Telemetry, TelemetryOptions } from "./telemetry.js";
export { UnrecordedTracerProvider } from "./unrecorded-tracer-provider.js";
export type { UnrecordedTracerProviderOptions } from "./unrecorded-tracer-provider.js";
export { PooledIdGenerator } from "./pooled-id-generator.js";
