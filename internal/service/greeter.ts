// The API implementation: maps protobuf messages to the biz layer and back. The same object
// serves HTTP (registerGreeterHTTPServer) and gRPC / Connect / gRPC-Web (server.register).
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { inject, injectable } from "inversify";
import type { Context } from "kratos-ts/context";
import type { GreeterHTTPServer } from "../../api/helloworld/v1/greeter_http.js";
import { GreetingSchema, HelloReplySchema } from "../../api/helloworld/v1/greeter_pb.js";
import type {
  GetGreetingRequest,
  Greeting,
  HelloReply,
  HelloRequest,
} from "../../api/helloworld/v1/greeter_pb.js";
import { GreeterUsecase } from "../biz/greeting.js";

/** helloworld.v1.Greeter. */
@injectable()
export class GreeterService implements GreeterHTTPServer {
  readonly #uc: GreeterUsecase;

  constructor(@inject(GreeterUsecase) uc: GreeterUsecase) {
    this.#uc = uc;
  }

  async sayHello(req: HelloRequest, _ctx: Context): Promise<HelloReply> {
    const greeting = await this.#uc.sayHello(req.name);
    return create(HelloReplySchema, { message: greeting.message, id: greeting.id });
  }

  async getGreeting(req: GetGreetingRequest, _ctx: Context): Promise<Greeting> {
    const greeting = await this.#uc.getGreeting(req.id);
    return create(GreetingSchema, {
      id: greeting.id,
      name: greeting.name,
      message: greeting.message,
      createTime: timestampFromDate(greeting.createTime),
    });
  }
}
