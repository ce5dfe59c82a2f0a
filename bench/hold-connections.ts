// Holds many open connections to one server for bench/growth.ts ("RSS with 10,000 open
// connections"), in its own process on core 1 so that its sockets and heap are not the
// server's. Each connection makes one call, as a client of a real service would before going
// idle, so the server holds what it keeps per used connection (parser, session, buffers),
// not only an accepted socket. It then stays idle.
//
// Prints `HELD <n>` once all calls are answered; on each line read from stdin it prints
// `OPEN <n>`, how many of them the server has not closed since (servers close idle HTTP/1.1
// keep-alive connections after their keep-alive timeout, 5 s for node:http and kratos-ts).
//
// The bench raises `ulimit -n` before it starts this process (and the servers): 10,000
// sockets are more than the usual soft limit of 1024.
//
// Options: --port, --connections (default 10000), --protocol=http1|h2, --path, --body=<file>
// (h2: a gRPC request frame, sent as a POST with content-type application/grpc).
import { readFileSync } from "node:fs";
import http2 from "node:http2";
import net from "node:net";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";

const { values: args } = parseArgs({
  options: {
    port: { type: "string" },
    connections: { type: "string", default: "10000" },
    protocol: { type: "string", default: "http1" },
    path: { type: "string", default: "/helloworld/kratos" },
    body: { type: "string" },
  },
});
const port = Number(args.port);
const connections = Number(args.connections);
/** Connections being opened at once: enough to be quick, few enough not to overflow the backlog. */
const parallel = 256;

let open = 0;

/** HTTP/1.1: a socket with one keep-alive GET answered; resolves when the reply is in. */
function http1(): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: "127.0.0.1" });
    let reply = "";
    let connected = false;
    socket.once("connect", () => {
      connected = true;
      open++;
      socket.write(`GET ${args.path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    });
    socket.on("data", (chunk: Buffer) => {
      reply += chunk.toString("latin1");
      // The helloworld reply is small: headers and body arrive together.
      if (reply.includes("\r\n\r\n")) resolve();
    });
    socket.once("close", () => {
      if (connected) open--;
      reject(new Error("closed before its reply"));
    });
    socket.once("error", reject);
  });
}

const frame = args.body === undefined ? undefined : readFileSync(args.body);

/** HTTP/2: a session with one gRPC call answered; resolves when the call has ended. */
function h2(): Promise<void> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    let connected = false;
    session.once("connect", () => {
      connected = true;
      open++;
    });
    session.once("close", () => {
      if (connected) open--;
    });
    session.once("error", reject);
    const req = session.request({
      ":method": "POST",
      ":path": args.path,
      "content-type": "application/grpc",
      te: "trailers",
    });
    req.on("data", () => undefined);
    req.once("end", resolve);
    req.once("error", reject);
    req.end(frame);
  });
}

const connect = args.protocol === "h2" ? h2 : http1;
let next = 0;
let failed = 0;
const worker = async (): Promise<void> => {
  while (next < connections) {
    next++;
    // A connection refused or closed early is counted, not retried: the figure is what stays.
    await connect().catch(() => {
      failed++;
    });
  }
};
await Promise.all(Array.from({ length: parallel }, worker));
process.stdout.write(`HELD ${open}${failed > 0 ? ` (${failed} failed)` : ""}\n`);
createInterface({ input: process.stdin }).on("line", () => {
  process.stdout.write(`OPEN ${open}\n`);
});
