import type { Context } from "../../src/context.js";
import type { GreeterHTTPServer } from "../../api/helloworld/v1/greeter_http.js";
import type {
  CreateGreetingRequest,
  GetGreetingRequest,
  HelloRequest,
} from "../../api/helloworld/v1/greeter_pb.js";
import { errorGreetingNotFound } from "../../api/helloworld/v1/error_reason_errors.js";
import { payload } from "./common.js";

/** The helloworld service the kratos-ts benchmark servers register on every transport. */
export class Greeter implements GreeterHTTPServer {
  sayHello(req: HelloRequest, _ctx: Context) {
    return Promise.resolve({ message: payload ?? `Hello ${req.name}` });
  }
  createGreeting(req: CreateGreetingRequest) {
    return Promise.resolve({ id: 1n, name: req.name, message: `Hello ${req.name}` });
  }
  getGreeting(req: GetGreetingRequest) {
    return Promise.reject(errorGreetingNotFound(`no greeting ${req.id}`));
  }
}
