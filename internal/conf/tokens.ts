// What cmd/server binds before it loads the layers: the scanned config, the logger and the
// telemetry. The layers ask for them by these tokens.
import type { ServiceIdentifier } from "inversify";
import type { CacheOptions } from "kratos-ts/cache";
import type { Live } from "kratos-ts/config";
import type { GovernanceStore } from "kratos-ts/governance";
import type { AuthSettings } from "kratos-ts/middleware";
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

/** The settings cmd/server follows live besides the governance rules, read by the servers' chain. */
export interface LiveSettings {
  /** `auth`: JWT and authorisation rules (kratos-ts/middleware `followAuth`). */
  readonly auth: Live<AuthSettings>;
  /** `server.bbr.enabled`: BBR load shedding on or off. */
  readonly bbr: Live<boolean>;
}

/** The live settings of {@link LiveSettings}. */
export const LiveSettingsToken: ServiceIdentifier<LiveSettings> = Symbol.for("conf.LiveSettings");

/**
 * The Redis client of `data.redis` (made by cmd/server, which closes it), and its read
 * timeout; both undefined when `data.redis` is unset, and then the data layer caches nothing.
 */
export interface DataRedis {
  readonly client?: CacheOptions<unknown>["redis"] | undefined;
  /** `data.redis.read_timeout` in ms, when set. */
  readonly timeout?: number | undefined;
}

/** The injection token of {@link DataRedis}. */
export const DataRedisToken: ServiceIdentifier<DataRedis> = Symbol.for("conf.DataRedis");
