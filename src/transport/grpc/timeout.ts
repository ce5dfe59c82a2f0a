/** gRPC's `grpc-timeout` header: up to 8 digits and a unit (H M S m u n). */
import { KratosError } from "../../errors/error.js";
import { reasons } from "../../errors/reasons.js";

const units: Record<string, number> = {
  H: 3_600_000,
  M: 60_000,
  S: 1_000,
  m: 1,
  u: 0.001,
  n: 0.000001,
};

/** Milliseconds of a `grpc-timeout` value, or undefined when absent or malformed. */
export function parseGrpcTimeout(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const match = /^(\d{1,8})([HMSmun])$/.exec(value);
  if (match === null) return undefined;
  const [, digits = "", unit = ""] = match;
  return Number(digits) * (units[unit] ?? 1);
}

/** A `grpc-timeout` value for a number of milliseconds (rounded up, at least 1 m). */
export function formatGrpcTimeout(ms: number): string {
  const millis = Math.max(1, Math.ceil(ms));
  if (millis < 1e8) return `${millis}m`;
  const seconds = Math.ceil(millis / 1000);
  if (seconds < 1e8) return `${seconds}S`;
  return `${Math.min(99_999_999, Math.ceil(seconds / 60))}M`;
}

/** A client's deadline header as a server reads it: a malformed one fails the call (as grpc-go). */
export interface TimeoutHeader {
  /** The deadline asked for, in ms; undefined when there is none. */
  timeoutMs: number | undefined;
  /** Why the header is unusable (400 CODEC), when it is. */
  badHeader: KratosError | undefined;
}

const noTimeout: TimeoutHeader = { timeoutMs: undefined, badHeader: undefined };

function malformed(name: string, value: string): TimeoutHeader {
  const shown = value.length > 32 ? `${value.slice(0, 32)}...` : value;
  return {
    timeoutMs: undefined,
    badHeader: new KratosError(400, reasons.codec, `malformed ${name} header "${shown}"`),
  };
}

/** Reads a `grpc-timeout` request header. */
export function readGrpcTimeout(value: string | undefined): TimeoutHeader {
  if (value === undefined) return noTimeout;
  const timeoutMs = parseGrpcTimeout(value);
  if (timeoutMs === undefined) return malformed("grpc-timeout", value);
  return { timeoutMs, badHeader: undefined };
}

/** Reads a `connect-timeout-ms` request header: at most 10 digits (the Connect protocol). */
export function readConnectTimeout(value: string | undefined): TimeoutHeader {
  if (value === undefined) return noTimeout;
  if (!/^\d{1,10}$/.test(value)) return malformed("connect-timeout-ms", value);
  return { timeoutMs: Number(value), badHeader: undefined };
}
