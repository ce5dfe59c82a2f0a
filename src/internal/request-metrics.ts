// The request metrics of the `metrics` middleware (Kratos `metrics.Server` / `metrics.Client`):
// their names and buckets, and the fast recorder `startTelemetry` installs for its own meter
// provider. Kept free of SDK imports: the middleware loads it whether or not the SDK runs.

import { packageVersion } from "./package-version.js";

/** Which side of a call a metric describes. */
export type Side = "server" | "client";

/** The histogram buckets of Kratos's `server_requests_seconds`, in seconds. */
export const latencyBuckets: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];

/**
 * The instrumentation scope the request metrics carry (`otel_scope_name` / `_version` in the
 * Prometheus text), whether the SDK's instruments or the in-place recorder write them.
 */
export function requestMetricsScope(): { name: string; version: string } {
  return { name: "kratos-ts", version: packageVersion() };
}

/** Name, description and unit of one instrument. */
export interface InstrumentSpec {
  readonly name: string;
  readonly description: string;
  readonly unit: string;
}

/** The counter `<side>_requests_code_total` and the histogram `<side>_requests_seconds`. */
export function requestInstruments(side: Side): {
  counter: InstrumentSpec;
  histogram: InstrumentSpec;
} {
  return {
    counter: {
      name: `${side}_requests_code_total`,
      description: `The total number of processed ${side} requests`,
      unit: "",
    },
    histogram: {
      name: `${side}_requests_seconds`,
      description: `${side} requests duration (sec)`,
      unit: "s",
    },
  };
}

/** Records one finished call: counted by kind, operation, code and reason, timed by kind and operation. */
export interface RequestRecorder {
  record(
    side: Side,
    kind: string,
    operation: string,
    code: number,
    reason: string,
    seconds: number,
  ): void;
}

let installed: { provider: object; recorder: RequestRecorder } | undefined;

/**
 * Makes `recorder` take the request metrics meant for `provider`, instead of the provider's
 * instruments; returns the undo. One at a time: the latest install wins.
 */
export function installRequestRecorder(provider: object, recorder: RequestRecorder): () => void {
  const entry = { provider, recorder };
  installed = entry;
  return () => {
    if (installed === entry) installed = undefined;
  };
}

/** The recorder installed for `provider`, if any. */
export function requestRecorderFor(provider: object): RequestRecorder | undefined {
  return installed !== undefined && installed.provider === provider
    ? installed.recorder
    : undefined;
}
