// A valid RPC request for the gRPC port in any protocol it serves (Connect unary, Connect GET,
// Connect streaming, gRPC-Web, gRPC), as a path, headers and a body that the families then
// mutate and send over HTTP/1.1 (raw socket) or HTTP/2 (node:http2).
import { compress, connectTimeoutValue, envelope, grpcTimeoutValue } from "./mutators.js";
import type { Codec } from "./mutators.js";
import type { Prng } from "./prng.js";
import { clientStreams, rpcMethods, sampleMessage } from "./rpc-corpus.js";
import type { RpcMethod } from "./rpc-corpus.js";

/** The protocols of the gRPC port. */
export type RpcProtocol = "connect-unary" | "connect-get" | "connect-stream" | "grpc-web" | "grpc";

/** An RPC request before it is put on the wire. */
export interface RpcRequest {
  protocol: RpcProtocol;
  method: RpcMethod;
  format: "proto" | "json";
  httpMethod: string;
  /** Path and query. */
  target: string;
  headers: [string, string][];
  /** The request messages, encoded (not compressed, not enveloped). */
  messages: Buffer[];
  /** The message compression the headers announce. */
  codec: Codec;
  /** The body as sent (enveloped and compressed per protocol); rebuilt by `frameBody`. */
  body: Buffer;
}

/** The content type of a protocol and format. */
export function contentTypeOf(protocol: RpcProtocol, format: "proto" | "json"): string {
  switch (protocol) {
    case "connect-unary":
    case "connect-get":
      return `application/${format}`;
    case "connect-stream":
      return `application/connect+${format}`;
    case "grpc-web":
      return `application/grpc-web+${format}`;
    default:
      return format === "json" ? "application/grpc+json" : "application/grpc";
  }
}

/** Every content type the port knows, plus near misses. */
export const rpcContentTypes = [
  "application/json",
  "application/proto",
  "application/connect+json",
  "application/connect+proto",
  "application/grpc",
  "application/grpc+proto",
  "application/grpc+json",
  "application/grpc-web",
  "application/grpc-web+proto",
  "application/grpc-web+json",
  "application/grpc-web-text",
  "application/grpc+thrift",
  "application/connect+xml",
  "application/JSON; charset=utf-8",
  "application/grpc;x=y",
  "text/plain",
  "",
];

/** The body of `req` framed for its protocol from its messages and codec. */
export function frameBody(req: RpcRequest): Buffer {
  if (req.protocol === "connect-unary")
    return compress(req.codec, req.messages[0] ?? Buffer.alloc(0));
  if (req.protocol === "connect-get") return Buffer.alloc(0);
  const flags = req.codec === "identity" ? 0 : 1;
  return Buffer.concat(req.messages.map((m) => envelope(flags, compress(req.codec, m))));
}

/** The query of a Connect GET carrying `message`. */
export function connectGetQuery(
  format: string,
  message: Buffer,
  base64: boolean,
  codec: Codec,
): string {
  const params = new URLSearchParams({ connect: "v1", encoding: format });
  const data = compress(codec, message);
  params.set("message", base64 ? data.toString("base64url") : data.toString("utf8"));
  if (base64) params.set("base64", "1");
  if (codec !== "identity") params.set("compression", codec);
  return params.toString();
}

/** A valid request of a random method in a random protocol. */
export function rpcRequest(rng: Prng, protocols: readonly RpcProtocol[]): RpcRequest {
  const method = rng.pick(rpcMethods);
  const protocol = rng.pick(protocols);
  const format =
    protocol === "grpc" && rng.chance(0.8)
      ? "proto"
      : rng.pick<"proto" | "json">(["proto", "json"]);
  const codec = rng.pick<Codec>(["identity", "identity", "gzip", "deflate"]);
  const count = clientStreams(method) ? rng.int(0, 3) : 1;
  const messages = Array.from({ length: count }, () => sampleMessage(method, rng, format));
  const headers: [string, string][] = [["content-type", contentTypeOf(protocol, format)]];
  let target = method.path;
  let httpMethod = "POST";
  if (protocol === "connect-get") {
    httpMethod = "GET";
    const base64 = format === "proto" || codec !== "identity" || rng.chance(0.5);
    target += `?${connectGetQuery(format, messages[0] ?? Buffer.alloc(0), base64, codec)}`;
    headers.length = 0;
  } else if (protocol === "connect-unary" || protocol === "connect-stream") {
    headers.push(["connect-protocol-version", "1"]);
    if (codec !== "identity") {
      headers.push([
        protocol === "connect-unary" ? "content-encoding" : "connect-content-encoding",
        codec,
      ]);
    }
    if (rng.chance(0.3)) headers.push(["connect-timeout-ms", connectTimeoutValue(rng)]);
  } else {
    if (protocol === "grpc-web") headers.push(["x-grpc-web", "1"]);
    else headers.push(["te", "trailers"]);
    if (codec !== "identity") headers.push(["grpc-encoding", codec]);
    if (rng.chance(0.3)) headers.push(["grpc-timeout", grpcTimeoutValue(rng)]);
  }
  const req: RpcRequest = {
    protocol,
    method,
    format,
    httpMethod,
    target,
    headers,
    messages,
    codec,
    body: Buffer.alloc(0),
  };
  req.body = frameBody(req);
  return req;
}
