// One entry of the app's service list: a class and how its object is registered on each server.
import type { DescService } from "@bufbuild/protobuf";
import type { Newable } from "inversify";
import type { GrpcServer, ServiceImpl } from "kratos-ts/transport/grpc";
import type { HttpServer } from "kratos-ts/transport/http";

/** A service object resolved from the container, ready to register on the servers. */
export interface ServedService {
  /** The full name of the API service, `helloworld.v1.Greeter`. */
  readonly name: string;
  /** Registers the object for gRPC, Connect and gRPC-Web. */
  registerGrpc(server: GrpcServer): void;
  /** Registers the object's `google.api.http` routes; a no-op for a service without them. */
  registerHttp(server: HttpServer): void;
}

/** An entry of `services`: the class bound in the container, and its registration. */
export interface ServiceEntry {
  /** The implementing class, bound to itself as a singleton. */
  readonly impl: Newable<object>;
  /** The operations it serves, `/helloworld.v1.Greeter/SayHello`: governance rules are checked against them. */
  readonly operations: readonly string[];
  /** The registration of the object `get` resolves for {@link impl}. */
  resolve(get: <T>(impl: Newable<T>) => T): ServedService;
}

/**
 * Declares that the app serves `service` with objects of `impl`: one object answers gRPC,
 * Connect and gRPC-Web and, given the generated `register<Svc>HTTPServer`, HTTP. The types tie
 * the three together: the class must implement the service as both servers expect it.
 */
export function serve<S extends DescService, T extends ServiceImpl<S>>(
  service: S,
  impl: Newable<T>,
  registerHttp?: (server: HttpServer, impl: T) => void,
): ServiceEntry {
  return {
    impl,
    operations: service.methods.map((m) => `/${service.typeName}/${m.name}`),
    resolve(get) {
      const object = get(impl);
      return {
        name: service.typeName,
        registerGrpc: (server) => {
          server.register(service, object);
        },
        registerHttp: (server) => {
          registerHttp?.(server, object);
        },
      };
    },
  };
}
