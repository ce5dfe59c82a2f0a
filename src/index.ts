/**
 * kratos-ts: Go Kratos, done natively in TypeScript.
 *
 * Each concept also has its own entry point (`kratos-ts/errors`, ...); this root module
 * re-exports them as namespaces, the way Kratos code reads (`errors.notFound(...)`).
 *
 * @module
 */
export * as errors from "./errors/index.js";
export { KratosError } from "./errors/index.js";
