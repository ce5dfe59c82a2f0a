import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { fromBinary } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { join } from "node:path";
import type { Context } from "kratos-ts/context";
import type { Middleware } from "kratos-ts/middleware";
import { serverTransport } from "kratos-ts/transport";
import { createGrpcClient, createGrpcServer } from "kratos-ts/transport/grpc";
import type { GrpcServer } from "kratos-ts/transport/grpc";
import { createHttpClient, createHttpServer } from "kratos-ts/transport/http";
import type { HttpServer } from "kratos-ts/transport/http";
import { errorGreetingNotFound } from "../../api/helloworld/v1/error_reason_errors.js";
import {
  createGreeterHTTPClient,
  registerGreeterHTTPServer,
} from "../../api/helloworld/v1/greeter_http.js";
import type { GreeterHTTPServer } from "../../api/helloworld/v1/greeter_http.js";
import { Greeter, HelloReplySchema } from "../../api/helloworld/v1/greeter_pb.js";
import type {
  CreateGreetingRequest,
  GetGreetingRequest,
  HelloRequest,
} from "../../api/helloworld/v1/greeter_pb.js";
import { repoRoot } from "../helpers/repo.js";

/** One service object for every transport. */
class GreeterService implements GreeterHTTPServer {
  sayHello(req: HelloRequest, ctx: Context) {
    return Promise.resolve({
      message: `Hello ${req.name} via ${serverTransport(ctx)?.kind ?? "?"}`,
    });
  }
  createGreeting(req: CreateGreetingRequest) {
    return Promise.resolve({ id: 1n, name: req.name, message: `Hello ${req.name}` });
  }
  getGreeting(req: GetGreetingRequest) {
    return Promise.reject(errorGreetingNotFound(`no greeting ${req.id}`));
  }
}

describe("one service object on every transport", () => {
  const seen: { kind: string; operation: string; header: string | undefined }[] = [];
  const observe: Middleware = (next) => (ctx, req) => {
    const t = serverTransport(ctx);
    seen.push({
      kind: t?.kind ?? "",
      operation: t?.operation ?? "",
      header: t?.requestHeader.get("x-trace"),
    });
    return next(ctx, req);
  };
  const service = new GreeterService();
  let http: HttpServer;
  let rpc: GrpcServer;

  before(async () => {
    http = createHttpServer({ addr: "127.0.0.1:0", middleware: [observe] });
    rpc = createGrpcServer({ addr: "127.0.0.1:0", middleware: [observe] });
    registerGreeterHTTPServer(http, service);
    rpc.register(Greeter, service);
    await Promise.all([http.start(), rpc.start()]);
  });

  after(async () => {
    await Promise.all([http.stop(), rpc.stop()]);
  });

  it("answers over HTTP/JSON, HTTP/proto, gRPC (grpc-js and ours), Connect and gRPC-Web", async () => {
    const headers = { "x-trace": "t-1" };
    const replies: string[] = [];
    const json = await fetch(`${http.endpoint().href}helloworld/kratos`, { headers });
    replies.push(((await json.json()) as { message: string }).message);
    const proto = await fetch(`${http.endpoint().href}helloworld/kratos`, {
      headers: { ...headers, accept: "application/x-protobuf" },
    });
    replies.push(fromBinary(HelloReplySchema, new Uint8Array(await proto.arrayBuffer())).message);
    const httpClient = createGreeterHTTPClient(
      createHttpClient({ endpoint: http.endpoint().href, headers }),
    );
    replies.push((await httpClient.sayHello({ name: "kratos" })).message);

    const def = protoLoader.loadSync(join(repoRoot, "api/helloworld/v1/greeter.proto"), {
      includeDirs: [join(repoRoot, "third_party")],
    });
    const pkg = grpc.loadPackageDefinition(def) as unknown as {
      helloworld: {
        v1: {
          Greeter: new (
            t: string,
            c: grpc.ChannelCredentials,
          ) => grpc.Client & {
            sayHello(
              r: object,
              md: grpc.Metadata,
              cb: (e: grpc.ServiceError | null, r?: { message: string }) => void,
            ): void;
          };
        };
      };
    };
    const grpcJs = new pkg.helloworld.v1.Greeter(
      rpc.endpoint().host,
      grpc.credentials.createInsecure(),
    );
    const md = new grpc.Metadata();
    md.set("x-trace", "t-1");
    replies.push(
      await new Promise<string>((resolve, reject) => {
        grpcJs.sayHello({ name: "kratos" }, md, (err, r) => {
          if (err !== null) reject(err);
          else resolve(r?.message ?? "");
        });
      }),
    );
    grpcJs.close();
    const ours = createGrpcClient(Greeter, { endpoint: rpc.endpoint().host, headers });
    replies.push((await ours.sayHello({ name: "kratos" })).message);
    ours.close();
    const baseUrl = `http://${rpc.endpoint().host}`;
    for (const transport of [
      createConnectTransport({ baseUrl, httpVersion: "1.1" }),
      createGrpcWebTransport({ baseUrl, httpVersion: "1.1" }),
    ]) {
      replies.push(
        (await createClient(Greeter, transport).sayHello({ name: "kratos" }, { headers })).message,
      );
    }
    assert.deepEqual(replies, [
      "Hello kratos via http",
      "Hello kratos via http",
      "Hello kratos via http",
      "Hello kratos via grpc",
      "Hello kratos via grpc",
      "Hello kratos via grpc",
      "Hello kratos via grpc",
    ]);
    // Middleware saw the same operation and header on both transports.
    assert.deepEqual(
      new Set(seen.map((s) => `${s.operation} ${s.header ?? ""}`)),
      new Set(["/helloworld.v1.Greeter/SayHello t-1"]),
    );
    assert.deepEqual(new Set(seen.map((s) => s.kind)), new Set(["http", "grpc"]));
  });

  it("gives the same typed error on both transports", async () => {
    const httpClient = createGreeterHTTPClient(
      createHttpClient({ endpoint: http.endpoint().href }),
    );
    const rpcClient = createGrpcClient(Greeter, { endpoint: rpc.endpoint().host });
    try {
      for (const call of [
        () => httpClient.getGreeting({ id: 7n }),
        () => rpcClient.getGreeting({ id: 7n }),
      ]) {
        await assert.rejects(call(), (err: unknown) => {
          assert.deepEqual((err as { toStatus(): unknown }).toStatus(), {
            code: 404,
            reason: "GREETING_NOT_FOUND",
            message: "no greeting 7",
            metadata: {},
          });
          return true;
        });
      }
    } finally {
      rpcClient.close();
    }
  });
});
