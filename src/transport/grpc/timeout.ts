/** gRPC's `grpc-timeout` header: up to 8 digits and a unit (H M S m u n). */

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
