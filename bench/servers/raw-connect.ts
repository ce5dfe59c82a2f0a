// Reference: a bare node:http handler for the Connect unary JSON call, no framework. It reads the
// body, decodes it with protobuf-es, encodes the reply and writes it: the least a Connect server
// on node:http with protobuf-es codecs does per call, so it bounds what kratos-ts can reach there.
import { create, fromJsonString, toJsonString } from "@bufbuild/protobuf";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { HelloReplySchema, HelloRequestSchema } from "../../api/helloworld/v1/greeter_pb.js";
import { port, ready } from "./common.js";

const path = "/helloworld.v1.Greeter/SayHello";

const server = http.createServer((req, res) => {
  if (req.method !== "POST" || req.url !== path) {
    res.writeHead(404).end();
    return;
  }
  const chunks: Buffer[] = [];
  req.on("data", (chunk: Buffer) => chunks.push(chunk));
  req.on("end", () => {
    const request = fromJsonString(HelloRequestSchema, Buffer.concat(chunks).toString("utf8"), {
      ignoreUnknownFields: true,
    });
    const body = toJsonString(
      HelloReplySchema,
      create(HelloReplySchema, { message: `Hello ${request.name}` }),
    );
    res.writeHead(200, {
      "content-type": "application/json",
      "content-length": Buffer.byteLength(body),
    });
    res.end(body);
  });
});
server.listen(port(), "127.0.0.1", () => {
  ready((server.address() as AddressInfo).port);
});
