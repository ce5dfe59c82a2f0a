// A local OTLP/HTTP trace collector for the layout's "spans exported" runs: it takes each export
// (POST /v1/traces, JSON or protobuf), reads the body whole and answers 200 with an empty
// ExportTraceServiceResponse, as an OpenTelemetry Collector does when it accepts every span.
// `GET /stats` answers what it has taken: exports, bytes, and spans (counted in JSON bodies by
// their `"spanId":` keys), so the runner can tell that spans did arrive. It runs on the load
// tool's core (core 1), as a collector would run beside a service, not on the service's core.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { port, ready } from "./common.js";

let exports = 0;
let bytes = 0;
let spans = 0;

const server = http.createServer((req, res) => {
  if (req.method === "GET" && req.url === "/stats") {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ exports, bytes, spans }));
    return;
  }
  const json = (req.headers["content-type"] ?? "").includes("json");
  // A span key may straddle two chunks: each chunk is searched with the previous one's tail.
  let tail = "";
  req.on("data", (chunk: Buffer) => {
    bytes += chunk.length;
    if (!json) return;
    const text = tail + chunk.toString("latin1");
    for (let at = text.indexOf('"spanId":'); at >= 0; at = text.indexOf('"spanId":', at + 9)) {
      spans++;
    }
    tail = text.slice(-8);
  });
  req.on("error", () => {
    res.destroy();
  });
  req.on("end", () => {
    if (req.method !== "POST" || !(req.url ?? "").startsWith("/v1/traces")) {
      res.writeHead(404).end();
      return;
    }
    exports++;
    res.writeHead(200, { "content-type": json ? "application/json" : "application/x-protobuf" });
    res.end(json ? "{}" : "");
  });
});
server.listen(port(), "127.0.0.1", () => {
  ready((server.address() as AddressInfo).port);
});
