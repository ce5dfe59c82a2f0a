import { ContainerModule } from "inversify";
import type { ServiceIdentifier } from "inversify";
import type { Logger } from "kratos-ts/log";
import type { Telemetry } from "kratos-ts/telemetry";
import type { GrpcServer } from "kratos-ts/transport/grpc";
import type { HttpServer } from "kratos-ts/transport/http";
import type { Bootstrap } from "../conf/conf_pb.js";
import { BootstrapToken, LoggerToken, TelemetryToken } from "../conf/tokens.js";
import { GreeterService } from "../service/greeter.js";
import { newGrpcServer } from "./grpc.js";
import { newHttpServer } from "./http.js";

/** The injection token of the HTTP server. */
export const HttpServerToken: ServiceIdentifier<HttpServer> = Symbol.for("server.HttpServer");

/** The injection token of the gRPC server. */
export const GrpcServerToken: ServiceIdentifier<GrpcServer> = Symbol.for("server.GrpcServer");

/** The server layer: the HTTP and gRPC servers, built from `server.*`, serving the services. */
export const serverModule = new ContainerModule(({ bind }) => {
  bind<HttpServer>(HttpServerToken)
    .toResolvedValue(
      (bc: Bootstrap, greeter: GreeterService, log: Logger, telemetry: Telemetry) =>
        newHttpServer(bc.server?.http, greeter, log, telemetry),
      [BootstrapToken, GreeterService, LoggerToken, TelemetryToken],
    )
    .inSingletonScope();
  bind<GrpcServer>(GrpcServerToken)
    .toResolvedValue(
      (bc: Bootstrap, greeter: GreeterService, log: Logger) =>
        newGrpcServer(bc.server?.grpc, greeter, log),
      [BootstrapToken, GreeterService, LoggerToken],
    )
    .inSingletonScope();
});
