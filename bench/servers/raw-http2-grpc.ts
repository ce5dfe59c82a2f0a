// Baseline: node:http2 serving unary gRPC SayHello with protobuf-es, no framework.
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import http2 from "node:http2";
import type { AddressInfo, Socket } from "node:net";
import { HelloReplySchema, HelloRequestSchema } from "../../api/helloworld/v1/greeter_pb.js";
import { port, ready } from "./common.js";

const server = http2.createServer();
// The same socket option the kratos-ts server sets, so the baseline is not slowed by Nagle.
server.on("connection", (socket: Socket) => {
  socket.setNoDelay(true);
});
server.on("stream", (stream, headers) => {
  if (headers[":path"] !== "/helloworld.v1.Greeter/SayHello") {
    stream.respond(
      { ":status": 200, "content-type": "application/grpc", "grpc-status": "12" },
      { endStream: true },
    );
    return;
  }
  const chunks: Buffer[] = [];
  stream.on("data", (c: Buffer) => chunks.push(c));
  stream.on("end", () => {
    const body = Buffer.concat(chunks);
    const req = fromBinary(HelloRequestSchema, body.subarray(5, 5 + body.readUInt32BE(1)));
    const reply = toBinary(
      HelloReplySchema,
      create(HelloReplySchema, { message: `Hello ${req.name}` }),
    );
    const frame = Buffer.allocUnsafe(5 + reply.length);
    frame[0] = 0;
    frame.writeUInt32BE(reply.length, 1);
    frame.set(reply, 5);
    stream.respond(
      { ":status": 200, "content-type": "application/grpc" },
      { waitForTrailers: true },
    );
    stream.once("wantTrailers", () => {
      stream.sendTrailers({ "grpc-status": "0" });
    });
    stream.end(frame);
  });
});
server.listen(port(), "127.0.0.1", () => {
  ready((server.address() as AddressInfo).port);
});
