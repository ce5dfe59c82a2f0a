import { ContainerModule } from "inversify";
import type { ServiceIdentifier } from "inversify";
import type { Broker } from "kratos-ts/broker";
import type { Server } from "kratos-ts/transport";
import type { GovernanceStore } from "kratos-ts/governance";
import type { Logger } from "kratos-ts/log";
import type { Telemetry } from "kratos-ts/telemetry";
import type { GrpcServer } from "kratos-ts/transport/grpc";
import type { HttpServer } from "kratos-ts/transport/http";
import type { Bootstrap } from "../conf/conf_pb.js";
import {
  BootstrapToken,
  GovernanceToken,
  LiveSettingsToken,
  LoggerToken,
  TelemetryToken,
} from "../conf/tokens.js";
import type { LiveSettings } from "../conf/tokens.js";
import { BrokerToken } from "../data/module.js";
import { ServicesToken } from "../service/module.js";
import type { ServedService } from "../service/serve.js";
import { newEventServer } from "./events.js";
import { newGrpcServer } from "./grpc.js";
import { newHttpServer } from "./http.js";

/** The injection token of the HTTP server. */
export const HttpServerToken: ServiceIdentifier<HttpServer> = Symbol.for("server.HttpServer");

/** The injection token of the gRPC server. */
export const GrpcServerToken: ServiceIdentifier<GrpcServer> = Symbol.for("server.GrpcServer");

/** The injection token of the events server (undefined without `data.nats`). */
export const EventServerToken: ServiceIdentifier<Server | undefined> =
  Symbol.for("server.EventServer");

/**
 * The server layer: the HTTP and gRPC servers, built from `server.*`, each serving every service of
 * `service/services.ts`, and the events server when `data.nats` is set.
 */
export const serverModule = new ContainerModule(({ bind }) => {
  bind<HttpServer>(HttpServerToken)
    .toResolvedValue(
      (
        bc: Bootstrap,
        services: readonly ServedService[],
        log: Logger,
        telemetry: Telemetry,
        governance: GovernanceStore,
        live: LiveSettings,
      ) => newHttpServer(bc.server?.http, services, log, telemetry, governance, live),
      [
        BootstrapToken,
        ServicesToken,
        LoggerToken,
        TelemetryToken,
        GovernanceToken,
        LiveSettingsToken,
      ],
    )
    .inSingletonScope();
  bind<GrpcServer>(GrpcServerToken)
    .toResolvedValue(
      (
        bc: Bootstrap,
        services: readonly ServedService[],
        log: Logger,
        governance: GovernanceStore,
        live: LiveSettings,
      ) => newGrpcServer(bc.server?.grpc, services, log, governance, live),
      [BootstrapToken, ServicesToken, LoggerToken, GovernanceToken, LiveSettingsToken],
    )
    .inSingletonScope();
  bind<Server | undefined>(EventServerToken)
    .toResolvedValue(
      (bc: Bootstrap, broker: Broker | undefined, log: Logger) =>
        newEventServer(broker, log, bc.data?.nats?.addr ?? ""),
      [BootstrapToken, BrokerToken, LoggerToken],
    )
    .inSingletonScope();
});
