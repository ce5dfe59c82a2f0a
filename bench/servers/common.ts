// Shared by the benchmark servers: the reply every server sends, and how a server tells the
// runner it is ready. Servers run pinned to one core by bench/run.ts.
import { create, toBinary } from "@bufbuild/protobuf";
import { HelloRequestSchema } from "../../api/helloworld/v1/greeter_pb.js";

/**
 * The helloworld reply body every HTTP server answers `GET /helloworld/kratos` with: proto3 JSON
 * with defaults emitted, as kratos-ts (and Go Kratos) answer `HelloReply`, so every peer writes
 * the same bytes.
 */
export const helloJson = '{"message":"Hello kratos"}';

/** Prints the port once listening; the runner waits for this line. */
export function ready(port: number): void {
  process.stdout.write(`READY ${port}\n`);
}

/** The request message of a gRPC SayHello, serialized. */
export const helloRequest = toBinary(
  HelloRequestSchema,
  create(HelloRequestSchema, { name: "kratos" }),
);

/** The listening port, from `PORT` (0 = any). */
export function port(): number {
  return Number(process.env.PORT ?? 0);
}
