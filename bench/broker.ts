// `npm run bench:broker`: publish -> consume through the kit (createPublisher + the broker
// server on the NATS engine) against raw nats.js (js.publish + consumer.consume, with the same
// protobuf encode and decode by hand) on the same nats-server, bare and with the one header the
// kit sends (content-type). The server runs pinned to core 0;
// run this process on core 1 (`taskset -c 1`). Publisher and subscriber share this process.
// Slices of each side alternate (odd rounds start with raw), so both sides of a ratio are
// measured seconds apart (see README.md, "Why this method").
//
// A slice publishes --messages with --concurrency publishes awaiting their JetStream ack at
// once; it ends when the subscriber has handled every one. Throughput is messages over that
// time; latency is publish start -> handler, per message.
//
// Options: --messages=<n> per slice (default 10000), --rounds=<n> (default 5; medians reported),
// --concurrency=<n> publishes in flight (default 64), --in-flight=<n> handlers at once and the
// pull batch (default 64), --sides=<list> (default kit,raw,raw+ct; one alone for a profile).
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, connect as tcpConnect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { AckPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect, headers } from "@nats-io/transport-node";
import { GreetingSchema } from "../api/helloworld/v1/greeter_pb.js";
import { createPublisher } from "../src/broker/publisher.js";
import { createBrokerServer } from "../src/broker/server.js";
import { createNatsBroker } from "../src/broker/nats/nats-broker.js";
import { createContext } from "../src/context.js";
import { recovery } from "../src/middleware/recovery.js";

const { values: args } = parseArgs({
  options: {
    messages: { type: "string", default: "10000" },
    rounds: { type: "string", default: "5" },
    concurrency: { type: "string", default: "64" },
    "in-flight": { type: "string", default: "64" },
    sides: { type: "string", default: "kit,raw,raw+ct" },
  },
});
const messages = Number(args.messages);
const rounds = Number(args.rounds);
const concurrency = Number(args.concurrency);
const inFlight = Number(args["in-flight"]);

const port = await new Promise<number>((resolve) => {
  const probe = createServer().listen(0, "127.0.0.1", () => {
    const address = probe.address();
    probe.close(() => {
      resolve(typeof address === "object" && address !== null ? address.port : 0);
    });
  });
});
const store = mkdtempSync(join(tmpdir(), "bench-nats-"));
const nats = spawn(
  "taskset",
  ["-c", "0", "/usr/sbin/nats-server", "-js", "-sd", store, "-a", "127.0.0.1", "-p", String(port)],
  { stdio: "ignore" },
);
const url = `nats://127.0.0.1:${port}`;
for (let i = 0; ; i++) {
  const up = await new Promise<boolean>((resolve) => {
    const socket = tcpConnect(port, "127.0.0.1", () => {
      socket.destroy();
      resolve(true);
    }).on("error", () => {
      resolve(false);
    });
  });
  if (up) break;
  if (i > 200) throw new Error("nats-server did not start");
  await new Promise((resolve) => setTimeout(resolve, 20));
}

/** One side of the comparison: publish message `id`; `onHandled(id)` is called per delivery. */
interface Side {
  publish(id: number): Promise<unknown>;
  close(): Promise<void>;
}

let onHandled: (id: number) => void = () => undefined;

async function kitSide(): Promise<Side> {
  const broker = createNatsBroker({ servers: url });
  const events = createBrokerServer({ broker, middleware: [recovery()] }).subscribe({
    topic: "bench.kit",
    schema: GreetingSchema,
    queue: "bench",
    maxInFlight: inFlight,
    handler: (g) => {
      onHandled(Number(g.id));
      return Promise.resolve();
    },
  });
  await events.start();
  const publisher = createPublisher({ broker, schema: GreetingSchema, topic: "bench.kit" });
  const ctx = createContext();
  return {
    publish: (id) => publisher.publish(ctx, { id: BigInt(id), name: "kratos" }),
    close: async () => {
      await events.stop();
      await broker.close();
    },
  };
}

/**
 * Raw nats.js on its own stream: `js.publish` of the encoded message, `consume()` decoding it
 * and acking inline. With `contentType`, each message carries the one header the kit sends
 * (`content-type: application/proto`) and the consumer reads it: the same bytes on the wire.
 */
async function rawSide(name: string, contentType: boolean): Promise<Side> {
  // The kit's connection options that change the cost of a publish (see nats-broker.ts).
  const nc = await connect({ servers: url, noAsyncTraces: true });
  const jsm = await jetstreamManager(nc);
  const subject = `bench.${name}`;
  await jsm.streams.add({ name: `bench_${name}`, subjects: [subject] });
  await jsm.consumers.add(`bench_${name}`, {
    durable_name: "bench",
    ack_policy: AckPolicy.Explicit,
    filter_subject: subject,
  });
  const js = jetstream(nc);
  const iterator = await (
    await js.consumers.get(`bench_${name}`, "bench")
  ).consume({
    max_messages: inFlight,
  });
  const loop = (async () => {
    for await (const m of iterator) {
      if (contentType && m.headers?.get("content-type") !== "application/proto") {
        throw new Error("no content type");
      }
      onHandled(Number(fromBinary(GreetingSchema, m.data).id));
      m.ack();
    }
  })();
  return {
    publish: (id) => {
      const body = toBinary(
        GreetingSchema,
        create(GreetingSchema, { id: BigInt(id), name: "kratos" }),
      );
      if (!contentType) return js.publish(subject, body);
      const h = headers();
      h.set("content-type", "application/proto");
      return js.publish(subject, body, { headers: h });
    },
    close: async () => {
      await iterator.close();
      await loop;
      await nc.drain();
    },
  };
}

interface Slice {
  rate: number;
  /** CPU microseconds of this process per message: publishing and consuming it. */
  cpu: number;
  p50: number;
  p99: number;
}

let nextId = 0;

/** Publishes `messages` through `side` and waits for all of them to be handled. */
async function slice(side: Side): Promise<Slice> {
  const first = nextId;
  nextId += messages;
  const sent = new Float64Array(messages);
  const latency = new Float64Array(messages);
  let handled = 0;
  let done: () => void = () => undefined;
  const all = new Promise<void>((resolve) => (done = resolve));
  onHandled = (id) => {
    const i = id - first;
    if (i < 0 || i >= messages || latency[i] !== 0) return; // a redelivery: counted once
    latency[i] = performance.now() - (sent[i] ?? 0);
    if (++handled === messages) done();
  };
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < messages) {
      const i = next++;
      sent[i] = performance.now();
      await side.publish(first + i);
    }
  };
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  await Promise.all(Array.from({ length: concurrency }, worker));
  await all;
  const elapsed = performance.now() - start;
  const cpu = process.cpuUsage(cpuStart);
  const sorted = Array.from(latency).sort((a, b) => a - b);
  return {
    rate: (messages / elapsed) * 1000,
    cpu: (cpu.user + cpu.system) / messages,
    p50: sorted[Math.floor(messages * 0.5)] ?? 0,
    p99: sorted[Math.floor(messages * 0.99)] ?? 0,
  };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
};

const makers: Record<string, () => Promise<Side>> = {
  kit: kitSide,
  raw: () => rawSide("raw", false),
  "raw+ct": () => rawSide("raw_ct", true),
};
const sides: Record<string, Side> = {};
for (const name of args.sides.split(",")) {
  const make = makers[name];
  if (make === undefined) throw new Error(`--sides: no side ${name} (kit, raw, raw+ct)`);
  sides[name] = await make();
}
const names = Object.keys(sides);
try {
  // Warm-up: one slice each, not counted (JIT, streams, consumers).
  for (const side of Object.values(sides)) await slice(side);
  const got: Record<string, Slice[]> = {};
  const ratios: Record<string, { rate: number[]; cpu: number[] }> = {};
  for (let round = 0; round < rounds; round++) {
    // Each round starts with the next side, so none always follows another.
    const order = names.map((_, i) => names[(i + round) % names.length] ?? "kit");
    const now: Record<string, Slice> = {};
    for (const name of order) {
      const side = sides[name];
      if (side === undefined) continue;
      now[name] = await slice(side);
      (got[name] ??= []).push(now[name]);
    }
    const kit = now["kit"];
    for (const name of names.filter((n) => n !== "kit")) {
      const raw = now[name];
      if (kit === undefined || raw === undefined) continue;
      const r = (ratios[name] ??= { rate: [], cpu: [] });
      r.rate.push(kit.rate / raw.rate);
      // Less exposed to other processes on the core than wall-clock rates: messages per CPU second.
      r.cpu.push(raw.cpu / kit.cpu);
    }
  }
  for (const [name, slices] of Object.entries(got)) {
    const rate = Math.round(median(slices.map((s) => s.rate)));
    const p50 = median(slices.map((s) => s.p50)).toFixed(2);
    const p99 = median(slices.map((s) => s.p99)).toFixed(2);
    const cpu = median(slices.map((s) => s.cpu)).toFixed(1);
    console.log(
      `${name.padEnd(6)} ${rate} msg/s, p50 ${p50} ms, p99 ${p99} ms, ${cpu} us CPU/msg (medians of ${rounds})`,
    );
  }
  const range = (xs: number[]) => `${Math.min(...xs).toFixed(2)}-${Math.max(...xs).toFixed(2)}`;
  for (const [name, r] of Object.entries(ratios)) {
    console.log(
      `kit / ${name}: throughput ${median(r.rate).toFixed(2)}x (${range(r.rate)}), ` +
        `messages per CPU second ${median(r.cpu).toFixed(2)}x (${range(r.cpu)})`,
    );
  }
} finally {
  for (const side of Object.values(sides)) await side.close();
  nats.kill();
  await new Promise((resolve) => nats.once("exit", resolve));
  rmSync(store, { recursive: true, force: true });
}
