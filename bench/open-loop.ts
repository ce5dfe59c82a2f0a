// An open-loop HTTP/1.1 load generator for bench/growth.ts ("latency against offered load"), run
// on core 1. wrk is closed-loop: each of its connections sends the next request only when the
// last reply is in, so a server that stalls also stalls the load, and the requests that would
// have waited are never counted (coordinated omission). Here requests are due at a fixed rate,
// whatever the server does, and a request's latency runs from the time it was due: one waiting
// for a free connection is as late as one waiting for its reply. wrk2 would do this but is not
// installed; autocannon's overallRate spaces requests per connection and times them from the
// send. Plain sockets and a minimal reply parser keep this client's own cost per request small:
// against node:http it kept up with 24,000 req/s offered using 57% of core 1, well above the
// layout's saturation (~15,000 req/s).
//
// Prints one JSON line: { offered, achieved, completed, late, p50, p90, p99, max } (latencies in
// ms; `late`: requests still unanswered when the run ended, counted with their time so far).
//
// Options: --port, --path (default /helloworld/kratos), --rate=<req/s>, --seconds (default 3),
// --connections (default 64, as wrk -c64 in bench/run.ts).
import net from "node:net";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";

const { values: args } = parseArgs({
  options: {
    port: { type: "string" },
    path: { type: "string", default: "/helloworld/kratos" },
    rate: { type: "string" },
    seconds: { type: "string", default: "3" },
    connections: { type: "string", default: "64" },
  },
});
const port = Number(args.port);
const rate = Number(args.rate);
const seconds = Number(args.seconds);
const connections = Number(args.connections);
if (!(port > 0 && rate > 0 && seconds > 0 && connections > 0)) {
  process.stderr.write("open-loop: --port and --rate are required, all numbers > 0\n");
  process.exit(2);
}
const request = Buffer.from(`GET ${args.path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
const total = Math.round(rate * seconds);

/** One keep-alive connection: at most one request in flight (no pipelining, as wrk). */
interface Conn {
  socket: net.Socket;
  /** When the request in flight was due, or undefined when the connection is free. */
  due: number | undefined;
  pending: Buffer;
}

const latencies: number[] = [];
const queue: number[] = []; // due times of requests waiting for a free connection
let queueHead = 0;
const free: Conn[] = [];
let issued = 0;
/** Replies that came in within the run's `seconds` (the achieved rate). */
let inWindow = 0;
let windowEnd = Infinity;

/** The length of the first whole reply in `buf`, or 0 while it is incomplete. */
function replyLength(buf: Buffer): number {
  const headerEnd = buf.indexOf("\r\n\r\n");
  if (headerEnd < 0) return 0;
  const head = buf.toString("latin1", 0, headerEnd).toLowerCase();
  const length = /\r\ncontent-length:\s*(\d+)/.exec(head);
  if (length !== null) {
    const end = headerEnd + 4 + Number(length[1]);
    return buf.length >= end ? end : 0;
  }
  if (head.includes("transfer-encoding: chunked")) {
    const end = buf.indexOf("\r\n0\r\n\r\n", headerEnd);
    return end < 0 ? 0 : end + 7;
  }
  return headerEnd + 4;
}

function send(conn: Conn, due: number): void {
  conn.due = due;
  conn.socket.write(request);
}

function onData(conn: Conn, chunk: Buffer): void {
  conn.pending = conn.pending.length === 0 ? chunk : Buffer.concat([conn.pending, chunk]);
  const length = replyLength(conn.pending);
  if (length === 0 || conn.due === undefined) return;
  if (!conn.pending.subarray(0, 12).toString("latin1").startsWith("HTTP/1.1 200")) {
    process.stderr.write(`open-loop: bad reply ${conn.pending.subarray(0, 80).toString()}\n`);
    process.exit(1);
  }
  const now = performance.now();
  latencies.push(now - conn.due);
  if (now <= windowEnd) inWindow++;
  conn.pending = conn.pending.subarray(length);
  conn.due = undefined;
  const next = queue[queueHead];
  if (next !== undefined) {
    queueHead++;
    send(conn, next);
  } else free.push(conn);
}

let finished = false;
const conns = await Promise.all(
  Array.from(
    { length: connections },
    () =>
      new Promise<Conn>((resolve, reject) => {
        const socket = net.connect({ port, host: "127.0.0.1", noDelay: true });
        const conn: Conn = { socket, due: undefined, pending: Buffer.alloc(0) };
        socket.once("connect", () => {
          resolve(conn);
        });
        socket.on("error", reject);
        // A connection the server closes mid-run would leave its requests unanswered and count
        // them late: say so and stop rather than report a wrong saturation point.
        socket.once("close", () => {
          if (finished) return;
          process.stderr.write("open-loop: the server closed a connection during the run\n");
          process.exit(1);
        });
        socket.on("data", (chunk: Buffer) => {
          onData(conn, chunk);
        });
      }),
  ),
);
free.push(...conns);

const start = performance.now();
windowEnd = start + seconds * 1000;
const interval = 1000 / rate;
// Every millisecond, the requests that fell due since the last tick are issued, each stamped
// with its own due time (not the tick's), so the timer's granularity adds no latency.
await new Promise<void>((resolve) => {
  const tick = (): void => {
    const now = performance.now();
    const dueNow = Math.min(total, Math.floor((now - start) / interval) + 1);
    for (; issued < dueNow; issued++) {
      const due = start + issued * interval;
      // First in, first out: every connection is used in turn, so none idles long enough for
      // the server's keep-alive timeout to close it, whatever the rate.
      const conn = free.shift();
      if (conn !== undefined) send(conn, due);
      else queue.push(due);
    }
    if (issued < total) setTimeout(tick, 1);
    else resolve();
  };
  tick();
});
// Let the last requests finish, for at most a second or the run's length.
const grace = performance.now() + Math.min(1000, seconds * 1000);
while (latencies.length < total && performance.now() < grace) {
  await new Promise((resolve) => setTimeout(resolve, 5));
}
const end = performance.now();
const completed = latencies.length;
// Unanswered requests count with the time they have waited so far: a lower bound, but leaving
// them out would hide the overload this run is looking for.
for (const conn of conns) if (conn.due !== undefined) latencies.push(end - conn.due);
for (let i = queueHead; i < queue.length; i++) latencies.push(end - (queue[i] ?? end));
const sorted = Float64Array.from(latencies).sort();
const at = (q: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
const round = (ms: number): number => Math.round(ms * 1000) / 1000;
process.stdout.write(
  JSON.stringify({
    offered: rate,
    achieved: Math.round(inWindow / seconds),
    completed,
    late: total - completed,
    p50: round(at(0.5)),
    p90: round(at(0.9)),
    p99: round(at(0.99)),
    max: round(sorted[sorted.length - 1] ?? 0),
  }) + "\n",
);
finished = true;
for (const conn of conns) conn.socket.destroy();
