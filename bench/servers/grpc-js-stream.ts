// Peer: @grpc/grpc-js server streaming with proto-loader, the echo fixture's Count
// (test/fixtures/http): one request, `up_to` replies written one by one, as grpc-js's docs do.
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { fileURLToPath } from "node:url";
import { port, ready } from "./common.js";

const root = fileURLToPath(new URL("../../..", import.meta.url));
const def = protoLoader.loadSync(`${root}test/fixtures/http/proto/echo/v1/echo.proto`);
const pkg = grpc.loadPackageDefinition(def) as unknown as {
  echo: { v1: { EchoService: { service: grpc.ServiceDefinition } } };
};
const server = new grpc.Server();
server.addService(pkg.echo.v1.EchoService.service, {
  count(call: grpc.ServerWritableStream<{ upTo: number }, unknown>) {
    for (let i = 1; i <= call.request.upTo; i++) call.write({ number: i });
    call.end();
  },
});
server.bindAsync(`127.0.0.1:${port()}`, grpc.ServerCredentials.createInsecure(), (err, bound) => {
  if (err !== null) throw err;
  ready(bound);
});
