// The API implementation: maps protobuf messages to the biz layer and back. The same object
// serves HTTP (registerGreeterHTTPServer) and gRPC / Connect / gRPC-Web (server.register).
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { inject, injectable } from "inversify";
import type { Context } from "kratos-ts/context";
import type { GreeterHTTPServer } from "../../api/helloworld/v1/greeter_http.js";
import { GreetingSchema, HelloReplySchema } from "../../api/helloworld/v1/greeter_pb.js";
import type {
  CreateGreetingRequest,
  GetGreetingRequest,
  Greeting,
  HelloReply,
  HelloRequest,
} from "../../api/helloworld/v1/greeter_pb.js";
import { GreeterUsecase } from "../biz/greeting.js";
import type { Greeting as GreetingEntity } from "../biz/greeting.js";

/** helloworld.v1.Greeter. */
@injectable()
export class GreeterService implements GreeterHTTPServer {
  readonly #uc: GreeterUsecase;

  constructor(@inject(GreeterUsecase) uc: GreeterUsecase) {
    this.#uc = uc;
  }

  async sayHello(req: HelloRequest, ctx: Context): Promise<HelloReply> {
    return create(HelloReplySchema, { message: await this.#uc.sayHello(ctx, req.name) });
  }

  async createGreeting(req: CreateGreetingRequest, _ctx: Context): Promise<Greeting> {
    return greetingMessage(await this.#uc.createGreeting(req.name));
  }

  async getGreeting(req: GetGreetingRequest, _ctx: Context): Promise<Greeting> {
    return greetingMessage(await this.#uc.getGreeting(req.id));
  }
}

/** The API's Greeting for a stored greeting. */
function greetingMessage(greeting: GreetingEntity): Greeting {
  return create(GreetingSchema, {
    id: greeting.id,
    name: greeting.name,
    message: greeting.message,
    createTime: timestampFromDate(greeting.createTime),
  });
}
