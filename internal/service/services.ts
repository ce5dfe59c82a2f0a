// The services the app serves. Each entry binds its class in the container (service/module.ts)
// and registers the object on both servers (server/http.ts, server/grpc.ts), so serving a new
// API service is one line here. `kratos-ts proto server` adds the line, and its imports, for
// every service class it writes.
import { registerGreeterHTTPServer } from "../../api/helloworld/v1/greeter_http.js";
import { Greeter } from "../../api/helloworld/v1/greeter_pb.js";
import { GreeterService } from "./greeter.js";
import { serve } from "./serve.js";
import type { ServiceEntry } from "./serve.js";

/** Every service of the app, in registration order. */
export const services: readonly ServiceEntry[] = [
  serve(Greeter, GreeterService, registerGreeterHTTPServer),
  // kratos-ts proto server adds services above this line.
];
