// kratos-ts: the helloworld service on createGrpcServer (gRPC over h2c, Connect over HTTP/1.1).
import { Greeter as GreeterService } from "../../api/helloworld/v1/greeter_pb.js";
import { createGrpcServer } from "../../src/transport/grpc/server.js";
import { port, ready } from "./common.js";
import { Greeter } from "./greeter.js";
import { benchChain } from "./layout-middleware.js";

const server = createGrpcServer({ addr: `127.0.0.1:${port()}`, middleware: await benchChain() });
server.register(GreeterService, new Greeter());
await server.start();
ready(Number(server.endpoint().port));
