// Peer: NestJS 12 on @nestjs/platform-fastify, a controller with the helloworld route, logger off.
import "reflect-metadata";
import { Controller, Get, Module, Param } from "@nestjs/common";
import { NestFactory } from "@nestjs/core";
import { FastifyAdapter, type NestFastifyApplication } from "@nestjs/platform-fastify";
import { port, ready } from "./common.js";

@Controller()
class GreeterController {
  // The same bytes as proto3 JSON of HelloReply with defaults (bench/servers/common.ts).
  @Get("helloworld/:name")
  sayHello(@Param("name") name: string): { message: string } {
    return { message: `Hello ${name}` };
  }
}

@Module({ controllers: [GreeterController] })
// eslint-disable-next-line @typescript-eslint/no-extraneous-class -- a Nest module is an empty decorated class
class AppModule {}

// Nest types its options as classes; its documented form is a plain object.
// eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment
const app = await NestFactory.create<NestFastifyApplication>(AppModule, new FastifyAdapter(), {
  logger: false,
});
await app.listen(port(), "127.0.0.1");
const address = app.getHttpServer().address();
ready(typeof address === "object" && address !== null ? address.port : port());
