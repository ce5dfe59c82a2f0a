// The calls a bench server is loaded with: the helloworld call of each group (bench/run.ts) and
// the shape of any other (bench/growth.ts), with the check of its reply, so that both servers of
// a pair are seen to do the same work before they are measured.
import { fromBinary } from "@bufbuild/protobuf";
import { HelloReplySchema } from "../api/helloworld/v1/greeter_pb.js";
import { helloJson, helloRequest } from "./servers/common.js";

/** Which load tool and which call: HTTP/1.1 GET, gRPC over h2c, Connect JSON over HTTP/1.1. */
export type Group = "http" | "grpc" | "connect";

/**
 * A call other than the default helloworld one of its group. The same call goes to both
 * servers of a pair, so both do the same work.
 */
export interface Call {
  /** The URL path. */
  path: string;
  /** The request body: a length-prefixed gRPC frame (grpc) or JSON (connect); none for GET. */
  body?: Uint8Array;
  /** Why a reply body (all its frames, for gRPC) is wrong, or undefined when it is right. */
  verify(reply: Buffer): string | undefined;
  /**
   * Connections of the load tool (default 64 for wrk, 8 for h2load) and, on HTTP/2, streams in
   * flight per connection (default 32). Large replies need fewer: 256 streams of 1 MiB share the
   * bandwidth so evenly that none finishes within a slice.
   */
  concurrency?: { connections: number; streams?: number };
}

/** A gRPC message in its 5-byte length-prefixed frame. */
export function grpcFrame(message: Uint8Array): Buffer {
  const frame = Buffer.alloc(5 + message.length);
  frame.writeUInt32BE(message.length, 1);
  frame.set(message, 5);
  return frame;
}

/** The messages of a gRPC reply body, unframed. */
export function grpcMessages(body: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at + 5 <= body.length;) {
    const length = body.readUInt32BE(at + 1);
    out.push(body.subarray(at + 5, at + 5 + length));
    at += 5 + length;
  }
  return out;
}

const helloFrame = grpcFrame(helloRequest);

/** The helloworld call of each group, answered "Hello kratos" by every server. */
export const helloCalls: Record<Group, Call> = {
  http: {
    path: "/helloworld/kratos",
    // Every HTTP server must send the same bytes, or the comparison is not fair.
    verify: (reply) =>
      reply.toString() === helloJson ? undefined : `bad reply ${reply.toString()}`,
  },
  grpc: {
    path: "/helloworld.v1.Greeter/SayHello",
    body: helloFrame,
    verify: (reply) => {
      const message = fromBinary(
        HelloReplySchema,
        grpcMessages(reply)[0] ?? new Uint8Array(),
      ).message;
      return message === "Hello kratos" ? undefined : `bad gRPC reply "${message}"`;
    },
  },
  connect: {
    path: "/helloworld.v1.Greeter/SayHello",
    body: Buffer.from('{"name":"kratos"}'),
    verify: (reply) => {
      const body = JSON.parse(reply.toString()) as { message?: unknown };
      return body.message === "Hello kratos" ? undefined : `bad reply ${reply.toString()}`;
    },
  },
};
