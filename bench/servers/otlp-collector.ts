// A local OTLP/HTTP trace collector for the layout's "spans exported" runs: it takes each export
// (POST /v1/traces, JSON or protobuf), reads the body whole and answers 200 with an empty
// ExportTraceServiceResponse, as an OpenTelemetry Collector does when it accepts every span. It
// runs on the load tool's core, so the service pays for making and sending spans, not for the
// collector. It counts the exports and the bytes, printed on SIGTERM/SIGINT, so a run can show
// that spans were sent at all.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { port, ready } from "./common.js";

let exports = 0;
let bytes = 0;

const server = http.createServer((req, res) => {
  req.on("data", (chunk: Buffer) => {
    bytes += chunk.length;
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
    const json = (req.headers["content-type"] ?? "").includes("json");
    res.writeHead(200, { "content-type": json ? "application/json" : "application/x-protobuf" });
    res.end(json ? "{}" : "");
  });
});
server.listen(port(), "127.0.0.1", () => {
  ready((server.address() as AddressInfo).port);
});
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.on(signal, () => {
    process.stdout.write(`EXPORTS ${exports} BYTES ${bytes}\n`);
    process.exit(0);
  });
}
