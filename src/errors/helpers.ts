import { KratosError } from "./error.js";
import type { KratosErrorOptions } from "./error.js";
import { code } from "./from-error.js";

/** A 400 Bad Request error. */
export function badRequest(
  reason: string,
  message: string,
  options?: KratosErrorOptions,
): KratosError {
  return new KratosError(400, reason, message, options);
}

/** True when `err` converts to a 400 error (any reason). */
export function isBadRequest(err: unknown): boolean {
  return code(err) === 400;
}

/** A 401 Unauthorized error. */
export function unauthorized(
  reason: string,
  message: string,
  options?: KratosErrorOptions,
): KratosError {
  return new KratosError(401, reason, message, options);
}

/** True when `err` converts to a 401 error (any reason). */
export function isUnauthorized(err: unknown): boolean {
  return code(err) === 401;
}

/** A 403 Forbidden error. */
export function forbidden(
  reason: string,
  message: string,
  options?: KratosErrorOptions,
): KratosError {
  return new KratosError(403, reason, message, options);
}

/** True when `err` converts to a 403 error (any reason). */
export function isForbidden(err: unknown): boolean {
  return code(err) === 403;
}

/** A 404 Not Found error. */
export function notFound(
  reason: string,
  message: string,
  options?: KratosErrorOptions,
): KratosError {
  return new KratosError(404, reason, message, options);
}

/** True when `err` converts to a 404 error (any reason). */
export function isNotFound(err: unknown): boolean {
  return code(err) === 404;
}

/** A 409 Conflict error. */
export function conflict(
  reason: string,
  message: string,
  options?: KratosErrorOptions,
): KratosError {
  return new KratosError(409, reason, message, options);
}

/** True when `err` converts to a 409 error (any reason). */
export function isConflict(err: unknown): boolean {
  return code(err) === 409;
}

/** A 429 Too Many Requests error. */
export function tooManyRequests(
  reason: string,
  message: string,
  options?: KratosErrorOptions,
): KratosError {
  return new KratosError(429, reason, message, options);
}

/** True when `err` converts to a 429 error (any reason). */
export function isTooManyRequests(err: unknown): boolean {
  return code(err) === 429;
}

/** A 499 Client Closed Request error (nginx's code; gRPC `CANCELLED`). */
export function clientClosed(
  reason: string,
  message: string,
  options?: KratosErrorOptions,
): KratosError {
  return new KratosError(499, reason, message, options);
}

/** True when `err` converts to a 499 error (any reason). */
export function isClientClosed(err: unknown): boolean {
  return code(err) === 499;
}

/** A 500 Internal Server Error. */
export function internalServer(
  reason: string,
  message: string,
  options?: KratosErrorOptions,
): KratosError {
  return new KratosError(500, reason, message, options);
}

/** True when `err` converts to a 500 error (any reason); unknown errors are 500. */
export function isInternalServer(err: unknown): boolean {
  return code(err) === 500;
}

/** A 503 Service Unavailable error. */
export function serviceUnavailable(
  reason: string,
  message: string,
  options?: KratosErrorOptions,
): KratosError {
  return new KratosError(503, reason, message, options);
}

/** True when `err` converts to a 503 error (any reason). */
export function isServiceUnavailable(err: unknown): boolean {
  return code(err) === 503;
}

/** A 504 Gateway Timeout error. */
export function gatewayTimeout(
  reason: string,
  message: string,
  options?: KratosErrorOptions,
): KratosError {
  return new KratosError(504, reason, message, options);
}

/** True when `err` converts to a 504 error (any reason). */
export function isGatewayTimeout(err: unknown): boolean {
  return code(err) === 504;
}
