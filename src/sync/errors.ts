import { EtcdLeaseInvalidError } from "etcd3";
import { KratosError } from "../errors/error.js";
import { reasons } from "../errors/reasons.js";

/** 503 `ETCD_UNAVAILABLE`: an etcd call for `what` failed or did not answer in time. */
export function etcdUnavailable(what: string, cause: unknown): KratosError {
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new KratosError(503, reasons.etcdUnavailable, `etcd unavailable: ${what}: ${detail}`, {
    cause,
  });
}

/**
 * 503 `SESSION_LOST`: the lease behind `what` is gone (expired, revoked, not kept alive for its
 * TTL, or closed with the sync client). The abort reason of a holder's `signal`.
 */
export function sessionLost(what: string, why: string, cause?: unknown): KratosError {
  return new KratosError(503, reasons.sessionLost, `${what} lost: ${why}`, { cause });
}

/** 504 with `reason` after `ms` of waiting for `what`. */
export function waitedTooLong(reason: string, what: string, ms: number): KratosError {
  return new KratosError(504, reason, `${what}: not obtained within ${ms} ms`, {
    metadata: { waitMs: String(ms) },
  });
}

/**
 * Whether a failed wait or attempt means etcd is unreachable (logged once per outage), rather
 * than a lease that etcd itself says is gone (revoked, or expired during a pause).
 */
export function isOutage(err: unknown): boolean {
  if (!(err instanceof KratosError)) return false;
  if (err.reason === reasons.etcdUnavailable) return true;
  return err.reason === reasons.sessionLost && !(err.cause instanceof EtcdLeaseInvalidError);
}
