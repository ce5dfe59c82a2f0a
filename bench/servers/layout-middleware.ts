import type { Middleware } from "../../src/middleware/middleware.js";
import { recovery } from "../../src/middleware/recovery.js";

/** The minimal chain: recovery only (what every service should run). */
export function recoveryOnly(): Middleware[] {
  return [recovery()];
}

/**
 * The layout's default chain as internal/server builds it, with the OpenTelemetry SDK started
 * as cmd/server starts it (spans made but exported nowhere, metrics kept for Prometheus) and the
 * call log at its production setting: the logger's level above info, so no line is written.
 * Loaded on demand: the SDK's, pino's and protovalidate's code and heap must not count against
 * the recovery-only runs.
 */
export async function layoutChain(): Promise<Middleware[]> {
  const [
    { startTelemetry },
    { createLogger },
    { logging },
    { metrics },
    { tracing },
    { validate },
  ] = await Promise.all([
    import("../../src/telemetry/telemetry.js"),
    import("../../src/log/create-logger.js"),
    import("../../src/middleware/logging.js"),
    import("../../src/middleware/metrics.js"),
    import("../../src/middleware/tracing.js"),
    import("../../src/middleware/validate.js"),
  ]);
  startTelemetry({ serviceName: "bench" });
  const logger = createLogger({ level: "warn" });
  return [
    recovery({ logger }),
    tracing.server(),
    logging.server({ logger }),
    metrics.server(),
    validate(),
  ];
}

/** The chain a bench server runs: the layout's with `--chain=layout`, else recovery alone. */
export async function benchChain(): Promise<Middleware[]> {
  return process.argv.includes("--chain=layout") ? layoutChain() : recoveryOnly();
}
