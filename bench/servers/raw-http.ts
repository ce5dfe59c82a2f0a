// Baseline: node:http answering GET /helloworld/{name} with JSON, no framework.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { keepAliveTimeout, port, ready } from "./common.js";

const server = http.createServer((req, res) => {
  const url = req.url ?? "";
  if (req.method === "GET" && url.startsWith("/helloworld/")) {
    // The same bytes as proto3 JSON of HelloReply with defaults (bench/servers/common.ts).
    const body = JSON.stringify({ message: `Hello ${decodeURIComponent(url.slice(12))}` });
    res.writeHead(200, {
      "content-type": "application/json",
      "content-length": Buffer.byteLength(body),
    });
    res.end(body);
    return;
  }
  res.writeHead(404).end();
});
if (keepAliveTimeout !== undefined) server.keepAliveTimeout = keepAliveTimeout;
server.listen(port(), "127.0.0.1", () => {
  ready((server.address() as AddressInfo).port);
});
