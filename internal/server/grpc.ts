import { createGrpcServer } from "kratos-ts/transport/grpc";
import type { GrpcServer } from "kratos-ts/transport/grpc";
import type { GovernanceStore } from "kratos-ts/governance";
import type { Logger } from "kratos-ts/log";
import type { LiveSettings } from "../conf/tokens.js";
import type { Server_GRPC } from "../conf/conf_pb.js";
import type { ServedService } from "../service/serve.js";
import { corsOptions, listenAddr, timeoutMs, tlsOptions } from "./conf.js";
import { layoutMiddleware } from "./middleware.js";

/**
 * The gRPC server of `server.grpc`: gRPC, Connect and gRPC-Web on one port (TLS or mTLS with
 * `server.grpc.tls`), with health and reflection, serving every service of the app.
 */
export function newGrpcServer(
  conf: Server_GRPC | undefined,
  services: readonly ServedService[],
  log: Logger,
  governance: GovernanceStore,
  live: LiveSettings,
): GrpcServer {
  const server = createGrpcServer({
    addr: listenAddr("server.grpc", conf, "0.0.0.0:9000"),
    timeout: timeoutMs(conf?.timeout),
    middleware: layoutMiddleware(log, governance, live),
    cors: corsOptions(conf?.cors, log),
    tls: tlsOptions("server.grpc.tls", conf?.tls),
  });
  for (const service of services) service.registerGrpc(server);
  return server;
}
