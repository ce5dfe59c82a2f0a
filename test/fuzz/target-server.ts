// The server under fuzz, run as a child process (see child.ts) so that a crash shows as the
// child's exit instead of killing the test runner. It is built only from the kit's public API,
// with the layout's middleware chain and timeouts, and talks to its parent over IPC: "ready"
// with both endpoints once listening, "stats" (memory, after a full GC if asked) and "ping" on
// request. SIGTERM stops it through the app's own graceful shutdown; nothing here catches
// errors the kit lets escape.
import "reflect-metadata";
import { createApp } from "kratos-ts/app";
import { createLogger } from "kratos-ts/log";
import { logging, metrics, recovery, tracing, validate } from "kratos-ts/middleware";
import { createGrpcServer } from "kratos-ts/transport/grpc";
import { createHttpServer } from "kratos-ts/transport/http";
import { Greeter } from "../../api/helloworld/v1/greeter_pb.js";
import { registerGreeterHTTPServer } from "../../api/helloworld/v1/greeter_http.js";
import { registerBookstoreHTTPServer } from "../fixtures/http/gen/bookstore/v1/bookstore_http.js";
import { EchoService } from "../fixtures/http/gen/echo/v1/echo_pb.js";
import type { ChildMessage, ParentMessage } from "./target-ipc.js";
import { bookstore, echo, greeter } from "./target-service.js";

// Recovery's report of a bug goes to stderr, which the parent prints on failure; the per-call
// log lines are serialized as in the layout but thrown away (they would flood the pipe).
const bugLog = createLogger({
  level: "error",
  destination: { write: (line: string) => process.stderr.write(line) },
});
const callLog = createLogger({ level: "info", destination: { write: () => undefined } });

// The layout's chain and its 1 s timeout (internal/server/middleware.ts, configs/config.yaml).
const middleware = [
  recovery({ logger: bugLog }),
  tracing.server(),
  logging.server({ logger: callLog }),
  metrics.server(),
  validate(),
];

const http = createHttpServer({ addr: "127.0.0.1:0", timeout: 1_000, middleware });
registerGreeterHTTPServer(http, greeter);
registerBookstoreHTTPServer(http, bookstore);

const grpc = createGrpcServer({ addr: "127.0.0.1:0", timeout: 1_000, middleware });
grpc.register(Greeter, greeter);
grpc.register(EchoService, echo);

function send(message: ChildMessage): void {
  process.send?.(message);
}

process.on("message", (message: ParentMessage) => {
  if (message.type === "ping") {
    send({ type: "pong", seq: message.seq ?? 0 });
    return;
  }
  // A full collection first when asked (the parent starts us with --expose-gc), so RSS
  // reflects what is still held rather than garbage waiting for the next cycle.
  const gc = (globalThis as { gc?: () => void }).gc;
  if (message.gc === true) gc?.();
  const usage = process.memoryUsage();
  send({
    type: "stats",
    rss: usage.rss,
    heapUsed: usage.heapUsed,
    external: usage.external,
    handles: process.getActiveResourcesInfo().length,
  });
});

const app = createApp({
  name: "fuzz-target",
  servers: [http, grpc],
  stopTimeout: 3_000,
  signals: ["SIGTERM", "SIGINT"],
  afterStart: [
    () => {
      send({ type: "ready", http: http.endpoint().href, grpc: grpc.endpoint().href });
    },
  ],
});

// After the app has stopped, only the IPC channel may keep the process up: let it go, so the
// process exits by itself once the kit has released everything (the parent checks it does).
app.run().then(
  () => {
    if (process.connected) process.disconnect();
  },
  (err: unknown) => {
    process.stderr.write(`fuzz target failed: ${String(err)}\n`);
    process.exitCode = 1;
    if (process.connected) process.disconnect();
  },
);

// A parent that is gone (killed, crashed) cannot stop us: stop with it rather than linger as an
// orphan listening on loopback.
process.once("disconnect", () => {
  void app.stop();
});
