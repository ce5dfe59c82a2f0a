// What the TLS tests of the gRPC port share: an echo server that can fail with a Kratos error,
// and one unary call through @grpc/grpc-js.
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { KratosError } from "kratos-ts/errors";
import { createGrpcServer } from "kratos-ts/transport/grpc";
import type { GrpcServer, GrpcServerOptions } from "kratos-ts/transport/grpc";
import {
  EchoService,
  SayRequestSchema,
  SayResponseSchema,
} from "../../fixtures/http/gen/echo/v1/echo_pb.js";

/** The sentence the echo server answers with GREETING_NOT_FOUND (404, metadata `name`). */
export const missing = "missing";

/**
 * An echo server on 127.0.0.1:0 with `options`; `gate`, when given, holds each call until it
 * resolves (and is told the call arrived), to test a stop with calls in flight.
 */
export function tlsEchoServer(
  options: GrpcServerOptions,
  gate?: { arrived(): void; release: Promise<void> },
): GrpcServer {
  const server = createGrpcServer({ addr: "127.0.0.1:0", ...options });
  server.register(EchoService, {
    async say(req) {
      if (gate !== undefined) {
        gate.arrived();
        await gate.release;
      }
      if (req.sentence === missing) {
        throw new KratosError(404, "GREETING_NOT_FOUND", "no such greeting", {
          metadata: { name: missing },
        });
      }
      return { sentence: req.sentence };
    },
  });
  return server;
}

/** One Say call through @grpc/grpc-js; resolves with the sentence, rejects with its error. */
export function grpcJsSay(client: grpc.Client, sentence: string): Promise<string> {
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(
      "/echo.v1.EchoService/Say",
      (m: { sentence: string }) =>
        Buffer.from(toBinary(SayRequestSchema, create(SayRequestSchema, m))),
      (b: Buffer) => fromBinary(SayResponseSchema, b),
      { sentence },
      (err, reply) => {
        if (err !== null) reject(err);
        else resolve(reply?.sentence ?? "");
      },
    );
  });
}

/**
 * A grpc-js client of `endpoint` (`grpcs://127.0.0.1:port`) with `credentials`. The name it checks
 * (and sends as SNI) is `localhost`, also in the test certificate: an IP address as SNI draws a
 * deprecation warning from node.
 */
export function grpcJsClient(endpoint: URL, credentials: grpc.ChannelCredentials): grpc.Client {
  return new grpc.Client(endpoint.host, credentials, {
    "grpc.ssl_target_name_override": "localhost",
  });
}
