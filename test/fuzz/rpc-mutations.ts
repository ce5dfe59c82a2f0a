// Mutations of an RPC request that make sense on both HTTP/1.1 and HTTP/2: messages,
// envelopes, compression, deadlines, content types, paths, Connect GET parameters.
import {
  bomb,
  compress,
  connectTimeoutValue,
  encodingValue,
  envelope,
  grpcTimeoutValue,
  mutateEnvelope,
  mutateJson,
  mutatePath,
  mutateProto,
  unknownFieldFlood,
} from "./mutators.js";
import type { Prng } from "./prng.js";
import { connectGetQuery, frameBody, rpcContentTypes } from "./rpc-request.js";
import type { RpcRequest } from "./rpc-request.js";

function setHeader(req: RpcRequest, name: string, value: string): void {
  req.headers = req.headers.filter(([n]) => n !== name);
  req.headers.push([name, value]);
}

/** Applies 1-3 mutations to `req` in place (its body is rebuilt); returns their labels. */
export function mutateRpc(rng: Prng, req: RpcRequest): string[] {
  const labels = [`${req.protocol}/${req.format} ${req.method.path}`];
  if (req.format === "proto" && req.protocol !== "connect-get" && rng.chance(0.005)) {
    // Rare, and alone so that it reaches the decoder: a well-formed call whose message is a
    // flood of unknown fields.
    req.messages = [unknownFieldFlood(rng)];
    req.body = frameBody(req);
    labels.push(`message of ${req.messages[0]?.byteLength ?? 0} bytes of unknown fields`);
    return labels;
  }
  // Body-level edits that frameBody would undo are applied after it, in `post`.
  const post: ((body: Buffer) => Buffer)[] = [];
  for (let n = rng.int(1, 3); n > 0; n--) {
    const op = rng.int(0, 10);
    switch (op) {
      case 0: {
        const i = rng.int(0, Math.max(0, req.messages.length - 1));
        const message = req.messages[i] ?? Buffer.alloc(0);
        const edited = req.format === "json" ? mutateJson(rng, message) : mutateProto(rng, message);
        req.messages[i] = edited;
        labels.push(`message ${i} edited (${edited.byteLength} bytes)`);
        break;
      }
      case 1: {
        const m = mutateEnvelope(rng, req.messages[0] ?? Buffer.alloc(0));
        post.push((body) => (rng.chance(0.5) ? m.bytes : Buffer.concat([body, m.bytes])));
        labels.push(m.label);
        break;
      }
      case 2: {
        const name = encodingValue(rng);
        const header = req.protocol.startsWith("connect")
          ? req.protocol === "connect-unary"
            ? "content-encoding"
            : "connect-content-encoding"
          : "grpc-encoding";
        setHeader(req, header, name);
        if (name === "gzip" || name === "deflate") {
          req.codec = name;
          if (rng.chance(0.2)) {
            // A bomb: it inflates past the 4 MiB message limit.
            const b = bomb(name);
            post.push(() => (req.protocol === "connect-unary" ? b : envelope(1, b)));
            labels.push(`${name} bomb`);
          }
        }
        labels.push(`${header}: ${name}`);
        break;
      }
      case 3: {
        const grpc = !req.protocol.startsWith("connect");
        const value = grpc ? grpcTimeoutValue(rng) : connectTimeoutValue(rng);
        setHeader(req, grpc ? "grpc-timeout" : "connect-timeout-ms", value);
        labels.push(`timeout ${JSON.stringify(value)}`);
        break;
      }
      case 4: {
        const type = rng.pick(rpcContentTypes);
        setHeader(req, "content-type", type);
        labels.push(`content-type ${JSON.stringify(type)}`);
        break;
      }
      case 5:
        req.target = mutatePath(rng, req.target);
        labels.push("path edited");
        break;
      case 6:
        connectGetParams(rng, req, labels);
        break;
      case 7: {
        req.httpMethod = rng.pick(["GET", "PUT", "DELETE", "OPTIONS", "PATCH"]);
        labels.push(`method ${req.httpMethod}`);
        break;
      }
      case 8: {
        const h = rng.pick<[string, string]>([
          ["connect-protocol-version", "2"],
          ["te", "gzip"],
          ["grpc-accept-encoding", "br"],
          ["accept-encoding", "gzip"],
          ["connect-accept-encoding", "zstd"],
          ["grpc-status", "13"],
          ["x-md-bin", "!!!not base64"],
          ["authorization", "Bearer x"],
        ]);
        setHeader(req, h[0], h[1]);
        labels.push(`header ${h[0]}: ${h[1]}`);
        break;
      }
      case 9: {
        // A Connect end-stream message or gRPC-Web trailers sent by the client, or a second
        // message to a unary method.
        const extra = rng.pick([
          envelope(0x02, Buffer.from("{}")),
          envelope(0x80, Buffer.from("grpc-status: 0\r\n")),
          envelope(0, req.messages[0] ?? Buffer.alloc(0)),
        ]);
        post.push((body) => Buffer.concat([body, extra]));
        labels.push(`extra envelope 0x${(extra[0] ?? 0).toString(16)}`);
        break;
      }
      default:
        req.messages = [];
        labels.push("no messages");
    }
  }
  if (
    req.protocol === "connect-get" &&
    req.httpMethod === "GET" &&
    !req.target.includes("message=")
  ) {
    req.target += `?${connectGetQuery(req.format, req.messages[0] ?? Buffer.alloc(0), true, req.codec)}`;
  }
  req.body = post.reduce((body, edit) => edit(body), frameBody(req));
  return labels;
}

/** Odd Connect GET parameters: bad base64, unknown encodings, missing or bad compression. */
function connectGetParams(rng: Prng, req: RpcRequest, labels: string[]): void {
  const [path = ""] = req.target.split("?", 1);
  const message = req.messages[0] ?? Buffer.alloc(0);
  const query = rng.pick([
    "encoding=proto&base64=1&message=%%%%",
    "encoding=proto&base64=1&message=%25%25%25%25",
    "encoding=json&message=%7B",
    "encoding=xml&message=e30",
    "message=e30",
    "encoding=proto&base64=1&message=AAAA&compression=gzip",
    "encoding=proto&base64=1&message=AAAA&compression=br",
    `encoding=json&base64=1&message=${compress("gzip", message).toString("base64")}&compression=gzip`,
    `encoding=proto&base64=2&message=${message.toString("base64url")}`,
    `connect=v2&encoding=proto&base64=1&message=${message.toString("base64url")}`,
    `encoding=proto&base64=1&message=${message.toString("base64url")}&message=x`,
    `encoding=json&message=${"%5B".repeat(rng.int(10, 3000))}`,
  ]);
  req.protocol = "connect-get";
  req.httpMethod = "GET";
  req.target = `${path}?${query}`;
  req.headers = req.headers.filter(([n]) => n !== "content-type");
  labels.push(`connect GET ?${query.slice(0, 80)}`);
}
