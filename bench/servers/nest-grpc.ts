// Peer: NestJS 12 gRPC, @nestjs/microservices' gRPC transport (@grpc/grpc-js with proto-loader).
import "reflect-metadata";
import { Controller, Module } from "@nestjs/common";
import { NestFactory } from "@nestjs/core";
import { GrpcMethod, Transport, type MicroserviceOptions } from "@nestjs/microservices";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { port, ready } from "./common.js";

const root = fileURLToPath(new URL("../../..", import.meta.url));

@Controller()
class GreeterController {
  @GrpcMethod("Greeter", "SayHello")
  sayHello(request: { name: string }): { message: string } {
    return { message: `Hello ${request.name}` };
  }
}

@Module({ controllers: [GreeterController] })
// eslint-disable-next-line @typescript-eslint/no-extraneous-class -- a Nest module is an empty decorated class
class AppModule {}

/** A free port on 127.0.0.1: Nest's gRPC transport does not report the port it bound. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      const found = typeof address === "object" && address !== null ? address.port : 0;
      probe.close(() => {
        resolve(found);
      });
    });
  });
}

const listenPort = port() === 0 ? await freePort() : port();
// Nest types its options as classes; its documented form is a plain object.
// eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment
const app = await NestFactory.createMicroservice<MicroserviceOptions>(AppModule, {
  transport: Transport.GRPC,
  options: {
    package: "helloworld.v1",
    protoPath: `${root}api/helloworld/v1/greeter.proto`,
    loader: { includeDirs: [`${root}third_party`] },
    url: `127.0.0.1:${listenPort}`,
  },
  logger: false,
});
await app.listen();
ready(listenPort);
