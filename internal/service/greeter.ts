// The API implementation: maps protobuf messages to the biz layer and back. The same object
// serves HTTP (registerGreeterHTTPServer) and gRPC / Connect / gRPC-Web (server.register).
import { create } from "@bufbuild/protobuf";
import { inject, injectable } from "inversify";
import type { Context } from "kratos-ts/context";
import type { GreeterHTTPServer } from "../../api/helloworld/v1/greeter_http.js";
import { HelloReplySchema } from "../../api/helloworld/v1/greeter_pb.js";
import type {
  GetGreetingRequest,
  Greeting,
  HelloReply,
  HelloRequest,
} from "../../api/helloworld/v1/greeter_pb.js";
import { GreeterUsecase } from "../biz/greeting.js";
import { greetingMessage } from "./greetings.js";

/** helloworld.v1.Greeter. */
@injectable()
export class GreeterService implements GreeterHTTPServer {
  readonly #uc: GreeterUsecase;

  constructor(@inject(GreeterUsecase) uc: GreeterUsecase) {
    this.#uc = uc;
  }

  sayHello(req: HelloRequest, _ctx: Context): Promise<HelloReply> {
    return Promise.resolve(create(HelloReplySchema, { message: this.#uc.greet(req.name) }));
  }

  async getGreeting(req: GetGreetingRequest, _ctx: Context): Promise<Greeting> {
    return greetingMessage(await this.#uc.getGreeting(req.id));
  }
}
