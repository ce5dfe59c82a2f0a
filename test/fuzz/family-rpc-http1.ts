// The gRPC port over HTTP/1.1: Connect (unary POST, GET, streaming), gRPC-Web and gRPC (which
// needs HTTP/2), each mutated (rpc-mutations.ts) and in its HTTP/1.1 framing, then sent over a
// raw socket. Answers are judged by HTTP status and by the RPC status inside the body.
import type { Family } from "./family.js";
import { framing, runHttp1Case } from "./http1-case.js";
import { serializeRequest } from "./http1-wire.js";
import type { Http1Request } from "./http1-wire.js";
import { mutateBytes } from "./mutators.js";
import { rpcRequest } from "./rpc-request.js";
import { mutateRpc } from "./rpc-mutations.js";
import { hasDeadline, rpcCodesInBody } from "./verdict.js";

/** The HTTP/1.1 RPC family. */
export const rpcHttp1Family: Family = {
  name: "rpc-http1",
  async run(input) {
    const { rng } = input;
    const rpc = rpcRequest(rng, [
      "connect-unary",
      "connect-unary",
      "connect-get",
      "connect-stream",
      "grpc-web",
      "grpc",
    ]);
    const labels = rng.chance(0.85)
      ? mutateRpc(rng, rpc)
      : [`${rpc.protocol} ${rpc.method.path} (valid)`];
    const req: Http1Request = {
      method: rpc.httpMethod,
      target: rpc.target,
      version: "HTTP/1.1",
      headers: [["Host", "127.0.0.1"], ...rpc.headers],
      body: rpc.body,
    };
    if (rpc.httpMethod !== "GET" || rpc.body.byteLength > 0) {
      req.headers.push(["Content-Length", String(rpc.body.byteLength)]);
    }
    if (rng.chance(0.1)) labels.push(framing(rng, req));
    let bytes = serializeRequest(req);
    if (rng.chance(0.1)) {
      bytes = mutateBytes(rng, bytes);
      labels.push("bytes edited");
    }
    return runHttp1Case({
      input,
      port: input.grpcPort,
      bytes,
      labels,
      headRequest: req.method === "HEAD",
      judgeBody: rpcCodesInBody,
      deadline: hasDeadline(bytes.toString("latin1")),
    });
  },
};
