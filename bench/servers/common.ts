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

/**
 * With `--payload=<bytes>` (bench/growth.ts, "throughput against payload size"), the message
 * every helloworld reply carries instead of `Hello <name>`: that many ASCII bytes, built once at
 * start, so every server's work per call is to encode and send it. Undefined without the flag.
 */
export const payload: string | undefined = (() => {
  const arg = process.argv.find((a) => a.startsWith("--payload="));
  return arg === undefined ? undefined : "x".repeat(Number(arg.slice("--payload=".length)));
})();

/**
 * With `--keep-alive-timeout=<ms>` (bench/growth.ts, "RSS with 10,000 open connections"), the
 * HTTP/1.1 keep-alive timeout of the server; undefined without the flag (the server's default:
 * 5 s for node:http and kratos-ts, 72 s for fastify).
 */
export const keepAliveTimeout: number | undefined = (() => {
  const arg = process.argv.find((a) => a.startsWith("--keep-alive-timeout="));
  return arg === undefined ? undefined : Number(arg.slice("--keep-alive-timeout=".length));
})();

/** The listening port, from `PORT` (0 = any). */
export function port(): number {
  return Number(process.env.PORT ?? 0);
}
