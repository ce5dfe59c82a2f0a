// The wiring (what Wire generates in kratos-layout): the config, logger and telemetry go in, the layers'
// modules are loaded, and the servers come out ready for the app.
import { Container } from "inversify";
import type { GovernanceStore } from "kratos-ts/governance";
import type { Logger } from "kratos-ts/log";
import type { Telemetry } from "kratos-ts/telemetry";
import type { Server } from "kratos-ts/transport";
import { bizModule } from "../../internal/biz/module.js";
import type { Bootstrap } from "../../internal/conf/conf_pb.js";
import type { DataRedis, LiveSettings } from "../../internal/conf/tokens.js";
import {
  BootstrapToken,
  DataRedisToken,
  GovernanceToken,
  LiveSettingsToken,
  LoggerToken,
  TelemetryToken,
} from "../../internal/conf/tokens.js";
import { dataModule } from "../../internal/data/module.js";
import {
  EventServerToken,
  GrpcServerToken,
  HttpServerToken,
  serverModule,
} from "../../internal/server/module.js";
import { serviceModule } from "../../internal/service/module.js";

/** The wired service: its servers, and the cleanup that releases the data layer. */
export interface Wired {
  /** The container, for lookups beyond the servers (tests, tools). */
  container: Container;
  servers: Server[];
  /** Runs the layers' deactivation (closes the database); call it after the servers stop. */
  cleanup(): Promise<void>;
}

/**
 * Builds the service from its config and its live governance rules and settings; throws one clear line when
 * a resource cannot open. `redis` is the client of `data.redis`, when set.
 */
export function wire(
  bc: Bootstrap,
  logger: Logger,
  telemetry: Telemetry,
  governance: GovernanceStore,
  live: LiveSettings,
  redis: DataRedis = {},
): Wired {
  const container = new Container({ defaultScope: "Singleton" });
  container.bind(BootstrapToken).toConstantValue(bc);
  container.bind(LoggerToken).toConstantValue(logger);
  container.bind(TelemetryToken).toConstantValue(telemetry);
  container.bind(GovernanceToken).toConstantValue(governance);
  container.bind(LiveSettingsToken).toConstantValue(live);
  container.bind(DataRedisToken).toConstantValue(redis);
  container.load(dataModule, bizModule, serviceModule, serverModule);
  const servers: Server[] = [container.get(HttpServerToken), container.get(GrpcServerToken)];
  // With `data.nats`: the app starts it after the ports and stops it before them.
  const events = container.get(EventServerToken);
  if (events !== undefined) servers.push(events);
  return {
    container,
    servers,
    cleanup: () => container.unbindAllAsync(),
  };
}
