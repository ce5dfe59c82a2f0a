// Peer: @grpc/grpc-js with proto-loader, the usual Node gRPC server.
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { fileURLToPath } from "node:url";
import { payload, port, ready } from "./common.js";

const root = fileURLToPath(new URL("../../..", import.meta.url));
const def = protoLoader.loadSync(`${root}api/helloworld/v1/greeter.proto`, {
  includeDirs: [`${root}third_party`],
});
const pkg = grpc.loadPackageDefinition(def) as unknown as {
  helloworld: { v1: { Greeter: { service: grpc.ServiceDefinition } } };
};
const server = new grpc.Server();
server.addService(pkg.helloworld.v1.Greeter.service, {
  sayHello(call: grpc.ServerUnaryCall<{ name: string }, unknown>, cb: grpc.sendUnaryData<unknown>) {
    cb(null, { message: payload ?? `Hello ${call.request.name}` });
  },
});
server.bindAsync(`127.0.0.1:${port()}`, grpc.ServerCredentials.createInsecure(), (err, bound) => {
  if (err !== null) throw err;
  ready(bound);
});
