import type { Duration } from "@bufbuild/protobuf/wkt";

/** The listening address of a server's config; rejects networks other than tcp by key. */
export function listenAddr(
  key: string,
  conf: { network: string; addr: string } | undefined,
  fallback: string,
): string {
  const network = conf?.network || "tcp";
  if (network !== "tcp") throw new Error(`${key}.network: unsupported "${network}" (use tcp)`);
  return conf?.addr || fallback;
}

/** A config duration in milliseconds; unset is 0 (no timeout). */
export function durationMs(duration: Duration | undefined): number {
  if (duration === undefined) return 0;
  return Number(duration.seconds) * 1000 + Math.round(duration.nanos / 1e6);
}
