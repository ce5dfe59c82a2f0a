// helloworld.v1.Greetings: the write side of greetings. Like GreeterService, one object serves
// HTTP (registerGreetingsHTTPServer) and gRPC / Connect / gRPC-Web (server.register).
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { inject, injectable } from "inversify";
import type { Context } from "kratos-ts/context";
import type { GreetingsHTTPServer } from "../../api/helloworld/v1/greeter_http.js";
import { GreetingSchema } from "../../api/helloworld/v1/greeter_pb.js";
import type { CreateGreetingRequest, Greeting } from "../../api/helloworld/v1/greeter_pb.js";
import { GreeterUsecase } from "../biz/greeting.js";
import type { Greeting as GreetingEntity } from "../biz/greeting.js";

/** helloworld.v1.Greetings. */
@injectable()
export class GreetingsService implements GreetingsHTTPServer {
  readonly #uc: GreeterUsecase;

  constructor(@inject(GreeterUsecase) uc: GreeterUsecase) {
    this.#uc = uc;
  }

  async createGreeting(req: CreateGreetingRequest, _ctx: Context): Promise<Greeting> {
    return greetingMessage(await this.#uc.createGreeting(req.name));
  }
}

/** The API's Greeting for a stored greeting; GetGreeting answers the same shape. */
export function greetingMessage(greeting: GreetingEntity): Greeting {
  return create(GreetingSchema, {
    id: greeting.id,
    name: greeting.name,
    message: greeting.message,
    createTime: timestampFromDate(greeting.createTime),
  });
}
