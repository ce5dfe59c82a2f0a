import { createLogger } from "../../src/log/logger.js";
import { logging } from "../../src/middleware/logging.js";
import { metrics } from "../../src/middleware/metrics.js";
import type { Middleware } from "../../src/middleware/middleware.js";
import { recovery } from "../../src/middleware/recovery.js";
import { tracing } from "../../src/middleware/tracing.js";
import { validate } from "../../src/middleware/validate.js";
import { startTelemetry } from "../../src/telemetry/telemetry.js";

/** The minimal chain: recovery only (what every service should run). */
export function recoveryOnly(): Middleware[] {
  return [recovery()];
}

/**
 * The layout's default chain as internal/server builds it, with the OpenTelemetry SDK started
 * as cmd/server starts it (spans made but exported nowhere, metrics kept for Prometheus) and the
 * call log at its production setting: the logger's level above info, so no line is written.
 */
export function layoutChain(): Middleware[] {
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

/** The chain a bench server runs: `layout` when started with `--chain=layout`. */
export function benchChain(): Middleware[] {
  return process.argv.includes("--chain=layout") ? layoutChain() : recoveryOnly();
}
