import { createGrpcServer } from "kratos-ts/transport/grpc";
import type { GrpcServer } from "kratos-ts/transport/grpc";
import type { Logger } from "kratos-ts/log";
import { Greeter } from "../../api/helloworld/v1/greeter_pb.js";
import type { Server_GRPC } from "../conf/conf_pb.js";
import type { GreeterService } from "../service/greeter.js";
import { durationMs, listenAddr } from "./conf.js";
import { layoutMiddleware } from "./middleware.js";

/**
 * The gRPC server of `server.grpc`: gRPC, Connect and gRPC-Web on one port, with health and
 * reflection.
 */
export function newGrpcServer(
  conf: Server_GRPC | undefined,
  greeter: GreeterService,
  log: Logger,
): GrpcServer {
  const server = createGrpcServer({
    addr: listenAddr("server.grpc", conf, "0.0.0.0:9000"),
    timeout: durationMs(conf?.timeout),
    middleware: layoutMiddleware(log),
  });
  server.register(Greeter, greeter);
  return server;
}
