// What cmd/server binds before it loads the layers: the scanned config, the logger and the
// telemetry. The layers ask for them by these tokens.
import type { ServiceIdentifier } from "inversify";
import type { GovernanceStore } from "kratos-ts/governance";
import type { Logger } from "kratos-ts/log";
import type { Telemetry } from "kratos-ts/telemetry";
import type { Bootstrap } from "./conf_pb.js";

/** The config as scanned at start (`Bootstrap` from conf.proto). */
export const BootstrapToken: ServiceIdentifier<Bootstrap> = Symbol.for("conf.Bootstrap");

/** The service's logger. */
export const LoggerToken: ServiceIdentifier<Logger> = Symbol.for("log.Logger");

/** The started OpenTelemetry SDK (its Prometheus handler is mounted at /metrics). */
export const TelemetryToken: ServiceIdentifier<Telemetry> = Symbol.for("telemetry.Telemetry");

/** The live governance rules of `governance` (followed by cmd/server), applied by the servers' chain. */
export const GovernanceToken: ServiceIdentifier<GovernanceStore> = Symbol.for(
  "governance.GovernanceStore",
);
