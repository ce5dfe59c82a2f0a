// The valid starting points of the RPC mutations: every method the fuzz target's gRPC port
// serves (each kind), a few it does not, and random but well-formed request messages for
// them, in proto JSON and binary.
import { fromJson, toBinary } from "@bufbuild/protobuf";
import type { DescMessage, JsonObject } from "@bufbuild/protobuf";
import {
  CreateGreetingRequestSchema,
  GetGreetingRequestSchema,
  HelloRequestSchema,
} from "../../api/helloworld/v1/greeter_pb.js";
import {
  ChatRequestSchema,
  CountRequestSchema,
  FailRequestSchema,
  SayRequestSchema,
  SumRequestSchema,
} from "../fixtures/http/gen/echo/v1/echo_pb.js";
import { HealthCheckRequestSchema } from "../../src/gen/grpc/health/v1/health_pb.js";
import { ServerReflectionRequestSchema } from "../../src/gen/grpc/reflection/v1/reflection_pb.js";
import type { Prng } from "./prng.js";

/** A method kind, as protobuf-es names it. */
export type MethodKind = "unary" | "server_streaming" | "client_streaming" | "bidi_streaming";

/** A method of the gRPC port (or one it does not have). */
export interface RpcMethod {
  path: string;
  kind: MethodKind;
  input: DescMessage;
  /** A random, valid request in proto JSON. */
  sample(rng: Prng): JsonObject;
}

/** Strings that exercise encoders: empty, unicode, control characters, long. */
export function sampleString(rng: Prng): string {
  return rng.pick([
    "",
    "probe",
    "héllo wörld ✓",
    "😀",
    "\u0000\u0001",
    "a%20b",
    "x".repeat(rng.int(1, 100)),
  ]);
}

const int32Edges = [0, 1, -1, 3, 2147483647, -2147483648];
const int64Edges = ["0", "1", "-1", "9223372036854775807", "-9223372036854775808"];

/** Every method, with the unknown ones last. */
export const rpcMethods: readonly RpcMethod[] = [
  {
    path: "/helloworld.v1.Greeter/SayHello",
    kind: "unary",
    input: HelloRequestSchema,
    sample: (rng) => ({ name: sampleString(rng) }),
  },
  {
    path: "/helloworld.v1.Greeter/CreateGreeting",
    kind: "unary",
    input: CreateGreetingRequestSchema,
    sample: (rng) => ({ name: sampleString(rng) }),
  },
  {
    path: "/helloworld.v1.Greeter/GetGreeting",
    kind: "unary",
    input: GetGreetingRequestSchema,
    sample: (rng) => ({ id: rng.pick(int64Edges) }),
  },
  {
    path: "/echo.v1.EchoService/Say",
    kind: "unary",
    input: SayRequestSchema,
    sample: (rng) => ({
      sentence: sampleString(rng),
      blob: rng.bytes(rng.size(64)).toString("base64"),
    }),
  },
  {
    path: "/echo.v1.EchoService/Fail",
    kind: "unary",
    input: FailRequestSchema,
    sample: (rng) => ({
      code: rng.pick([...int32Edges, 400, 404, 409, 500, 503]),
      reason: rng.pick(["", "BAD", sampleString(rng)]),
      message: sampleString(rng),
      metadata: { k: sampleString(rng) },
    }),
  },
  {
    path: "/echo.v1.EchoService/Slow",
    kind: "unary",
    input: SayRequestSchema,
    sample: (rng) => ({ sentence: sampleString(rng) }),
  },
  {
    path: "/echo.v1.EchoService/Count",
    kind: "server_streaming",
    input: CountRequestSchema,
    sample: (rng) => ({ upTo: rng.pick([0, 1, 3, 1000, -1]), failAfter: rng.pick([0, 0, 1, 2]) }),
  },
  {
    path: "/echo.v1.EchoService/Sum",
    kind: "client_streaming",
    input: SumRequestSchema,
    sample: (rng) => ({ value: rng.pick(int64Edges) }),
  },
  {
    path: "/echo.v1.EchoService/Chat",
    kind: "bidi_streaming",
    input: ChatRequestSchema,
    sample: (rng) => ({ text: sampleString(rng) }),
  },
  {
    path: "/grpc.health.v1.Health/Check",
    kind: "unary",
    input: HealthCheckRequestSchema,
    sample: (rng) => ({ service: rng.pick(["", "echo.v1.EchoService", "nope"]) }),
  },
  {
    path: "/grpc.health.v1.Health/Watch",
    kind: "server_streaming",
    input: HealthCheckRequestSchema,
    sample: (rng) => ({ service: rng.pick(["", "helloworld.v1.Greeter", "nope"]) }),
  },
  {
    path: "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
    kind: "bidi_streaming",
    input: ServerReflectionRequestSchema,
    sample: (rng) =>
      rng.pick<JsonObject>([
        { listServices: "" },
        { fileContainingSymbol: rng.pick(["echo.v1.EchoService", "nope.Nope", ""]) },
        { fileByFilename: rng.pick(["echo/v1/echo.proto", "", "../x"]) },
      ]),
  },
  // Not served: UNIMPLEMENTED, on every protocol and every way the stream may end.
  {
    path: "/echo.v1.EchoService/Missing",
    kind: "unary",
    input: SayRequestSchema,
    sample: (rng) => ({ sentence: sampleString(rng) }),
  },
  {
    path: "/no.such.v1.Service/Method",
    kind: "unary",
    input: HelloRequestSchema,
    sample: (rng) => ({ name: sampleString(rng) }),
  },
  {
    path: "/helloworld.v1.Greeter/Nope",
    kind: "bidi_streaming",
    input: HelloRequestSchema,
    sample: (rng) => ({ name: sampleString(rng) }),
  },
];

/** Whether the client sends a stream of messages to the method. */
export function clientStreams(method: RpcMethod): boolean {
  return method.kind === "client_streaming" || method.kind === "bidi_streaming";
}

/** One random, valid request message of `method`, encoded. */
export function sampleMessage(method: RpcMethod, rng: Prng, format: "proto" | "json"): Buffer {
  const json = method.sample(rng);
  if (format === "json") return Buffer.from(JSON.stringify(json));
  return Buffer.from(toBinary(method.input, fromJson(method.input, json)));
}
