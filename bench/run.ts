// `npm run bench`: throughput and memory of kratos-ts against its Node peers on this machine.
//
// Throughput is measured in interleaved pairs: a kratos-ts server and one peer are started
// together, both pinned to core 0 (taskset), and loaded one at a time from core 1 (wrk for
// HTTP/1.1, h2load for gRPC), in short slices that alternate subject-peer, peer-subject, ...
// Each round's ratio compares two slices a few seconds apart, so this VM's drift (its throughput
// moves by 20% within a minute) hits both sides of a ratio nearly alike; the median of the
// per-round ratios is reported. A server is never loaded while the other one is: loading both
// at once on one core made the scheduler pick a winner (the same pair read 0.91x and 1.16x in
// consecutive rounds). Two control pairs, the same server against itself, show the noise floor.
// Each pair is started afresh `--starts` times, the two servers in alternating order: a process
// keeps its own speed for its whole life (JIT decisions, memory layout), so one start of a
// control pair read a steady 0.92x, and fastify runs ~20% apart from one process to the next.
//
// Memory is measured alone: each server runs by itself on core 0, loaded from core 1 for
// `--solo-duration` seconds, then its RSS is read from /proc.
//
// Every server runs as it ships: the peers with Node's defaults, the kratos-ts servers with the
// flags the layout starts its service with (src/internal/node-flags.ts).
//
// Every server is warmed up for `--warmup` seconds before it is measured: they all still speed
// up after 2 s (connect-node serves ~3000 req/s in its first 5 s of load and ~3600 from then on;
// fastify and kratos-ts gain 5-10%), and a ratio against a server still warming up flatters
// whichever side warms faster.
//
// Options: --duration=<seconds per slice> (default 3), --warmup=<seconds per server> (default
// 6), --starts=<n> (fresh processes per pair, default 3), --rounds=<n> (rounds per start, default 2),
// --solo-duration=<seconds> (default 10), --only=<http|grpc|connect>, --node-options="<flags>"
// (extra Node/V8 flags for every server, peers included, e.g. the kratos-ts flags to compare
// everyone with them), --no-solo (skip the memory runs).
import { execFileSync, spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import http2 from "node:http2";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { HelloReplySchema, HelloRequestSchema } from "../api/helloworld/v1/greeter_pb.js";
import { serviceNodeFlags } from "../src/internal/node-flags.js";
import { startLayout } from "./layout-process.js";
import { helloJson } from "./servers/common.js";

const { values: args } = parseArgs({
  options: {
    duration: { type: "string", default: "3" },
    warmup: { type: "string", default: "6" },
    starts: { type: "string", default: "3" },
    rounds: { type: "string", default: "2" },
    "solo-duration": { type: "string", default: "10" },
    only: { type: "string" },
    "node-options": { type: "string", default: "" },
    solo: { type: "boolean", default: true },
  },
  allowNegative: true,
});
/** A whole number >= 1 from an option, or one line naming the option and an exit. */
function count(name: "duration" | "warmup" | "starts" | "rounds" | "solo-duration"): number {
  const value = Number(args[name]);
  if (Number.isInteger(value) && value >= 1) return value;
  process.stderr.write(`bench: --${name} must be a whole number >= 1, got "${args[name]}"\n`);
  process.exit(2);
}
const duration = count("duration");
const warmup = count("warmup");
const starts = count("starts");
const rounds = count("rounds");
const soloDuration = count("solo-duration");
const nodeOptions = args["node-options"].split(/\s+/).filter((flag) => flag !== "");
const serversDir = fileURLToPath(new URL("./servers/", import.meta.url));
const work = mkdtempSync(join(tmpdir(), "kratos-bench-"));

type Group = "http" | "grpc" | "connect";
interface Scenario {
  name: string;
  server: string;
  group: Group;
  /** Extra arguments of the server script (`--chain=layout`). */
  args?: string[];
}

/** The kratos-ts servers (the others are peers): they run with the layout's Node flags. */
function isKit(s: Scenario): boolean {
  return s.server.startsWith("kratos-") || s.server === "layout";
}

/** A kratos-ts scenario again, with the layout's whole default chain instead of recovery. */
function withLayoutChain(s: Scenario): Scenario {
  return { ...s, name: `${s.name}, layout chain`, args: ["--chain=layout"] };
}

const kratosHttp: Scenario = { name: "kratos-ts HTTP", server: "kratos-http", group: "http" };
const kratosGrpc: Scenario = { name: "kratos-ts gRPC", server: "kratos-grpc", group: "grpc" };
const scenario = {
  layoutHttp: { name: "kratos-ts layout as shipped (HTTP)", server: "layout", group: "http" },
  layoutGrpc: { name: "kratos-ts layout as shipped (gRPC)", server: "layout", group: "grpc" },
  rawHttp: { name: "node:http (raw)", server: "raw-http", group: "http" },
  fastify: { name: "fastify", server: "fastify", group: "http" },
  nestHttp: { name: "NestJS 12 (fastify)", server: "nest-http", group: "http" },
  kratosHttp,
  kratosHttpLayout: withLayoutChain(kratosHttp),
  rawGrpc: { name: "node:http2 gRPC (raw)", server: "raw-http2-grpc", group: "grpc" },
  grpcJs: { name: "@grpc/grpc-js", server: "grpc-js", group: "grpc" },
  nestGrpc: {
    name: "NestJS 12 gRPC (@nestjs/microservices)",
    server: "nest-grpc",
    group: "grpc",
  },
  kratosGrpc,
  kratosGrpcLayout: withLayoutChain(kratosGrpc),
  connectNode: { name: "connect-node (Connect JSON)", server: "connect-node", group: "connect" },
  kratosConnect: { name: "kratos-ts (Connect JSON)", server: "kratos-grpc", group: "connect" },
  rawConnect: {
    name: "node:http + protobuf-es (Connect JSON, bare handler)",
    server: "raw-connect",
    group: "connect",
  },
} satisfies Record<string, Scenario>;

/**
 * A measured pair: `subject` against `peer`, with the target for subject / peer, or,
 * for a pair without one, what its ratio shows.
 */
type Pair = { subject: Scenario; peer: Scenario } & (
  { target: number; shows?: undefined } | { target?: undefined; shows: string }
);

const pairs: Pair[] = // Targets of issue 25 ("performance as shipped").
  (
    [
      { subject: scenario.layoutHttp, peer: scenario.rawHttp, target: 0.8 },
      { subject: scenario.layoutHttp, peer: scenario.fastify, shows: "as shipped / fastify" },
      { subject: scenario.layoutHttp, peer: scenario.nestHttp, target: 1.0 },
      { subject: scenario.kratosHttp, peer: scenario.rawHttp, target: 0.9 },
      { subject: scenario.kratosHttp, peer: scenario.fastify, target: 1.0 },
      { subject: scenario.kratosHttp, peer: scenario.nestHttp, shows: "recovery only / NestJS" },
      { subject: scenario.kratosHttpLayout, peer: scenario.rawHttp, target: 0.8 },
      { subject: scenario.kratosHttpLayout, peer: scenario.kratosHttp, shows: "cost of the chain" },
      { subject: scenario.layoutGrpc, peer: scenario.rawGrpc, target: 0.8 },
      { subject: scenario.layoutGrpc, peer: scenario.grpcJs, shows: "as shipped / grpc-js" },
      { subject: scenario.layoutGrpc, peer: scenario.nestGrpc, target: 1.0 },
      { subject: scenario.kratosGrpc, peer: scenario.rawGrpc, target: 0.9 },
      { subject: scenario.kratosGrpc, peer: scenario.grpcJs, target: 1.3 },
      { subject: scenario.kratosGrpc, peer: scenario.nestGrpc, shows: "recovery only / NestJS" },
      { subject: scenario.kratosGrpcLayout, peer: scenario.rawGrpc, target: 0.8 },
      { subject: scenario.kratosGrpcLayout, peer: scenario.kratosGrpc, shows: "cost of the chain" },
      { subject: scenario.kratosConnect, peer: scenario.rawConnect, target: 0.95 },
      {
        subject: scenario.kratosConnect,
        peer: scenario.connectNode,
        shows: "against connect-node",
      },
      { subject: scenario.rawConnect, peer: scenario.connectNode, shows: "the node:http ceiling" },
      { subject: scenario.kratosHttp, peer: scenario.kratosHttp, shows: "noise floor" },
      { subject: scenario.kratosGrpc, peer: scenario.kratosGrpc, shows: "noise floor" },
    ] satisfies Pair[]
  ).filter((p) => args.only === undefined || p.subject.group === args.only);
const soloScenarios = Object.values(scenario).filter(
  (s: Scenario) => args.only === undefined || s.group === args.only,
);

/** Installs wrk and h2load from Debian when they are missing (the machine's root user can). */
function ensureTools(): void {
  const missing = ["wrk", "h2load", "taskset"].filter((tool) => {
    try {
      execFileSync("which", [tool], { stdio: "ignore" });
      return false;
    } catch {
      return true;
    }
  });
  if (missing.length === 0) return;
  process.stdout.write(`installing load tools (missing: ${missing.join(", ")})\n`);
  execFileSync("apt-get", ["update"], { stdio: "ignore" });
  execFileSync("apt-get", ["install", "-y", "wrk", "nghttp2-client", "util-linux"], {
    stdio: "ignore",
  });
}

interface Running {
  child: ChildProcess;
  port: number;
}

async function startServer(s: Scenario): Promise<Running> {
  if (s.server === "layout") {
    const layout = await startLayout(work, nodeOptions);
    return { child: layout.child, port: s.group === "http" ? layout.httpPort : layout.grpcPort };
  }
  const child = spawn(
    "taskset",
    [
      "-c",
      "0",
      process.execPath,
      ...(isKit(s) ? serviceNodeFlags : []),
      ...nodeOptions,
      join(serversDir, `${s.server}.js`),
      ...(s.args ?? []),
    ],
    {
      env: { ...process.env, PORT: "0", NODE_ENV: "production" },
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const m = /READY (\d+)/.exec(out);
      if (m !== null) resolve({ child, port: Number(m[1]) });
    });
    child.once("exit", (code) => {
      reject(new Error(`server ${s.server} exited with ${code ?? "signal"} before it was ready`));
    });
  });
}

async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) =>
    child.once("exit", () => {
      resolve();
    }),
  );
  child.kill("SIGKILL");
  await exited;
}

/** Resident memory of a process in MiB. */
function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb / 1024;
}

const connectLua = join(work, "connect.lua");
writeFileSync(
  connectLua,
  'wrk.method = "POST"\nwrk.body = \'{"name":"kratos"}\'\nwrk.headers["Content-Type"] = "application/json"\n',
);
const grpcBody = join(work, "grpc.bin");
const request = toBinary(HelloRequestSchema, create(HelloRequestSchema, { name: "kratos" }));
const frame = Buffer.alloc(5 + request.length);
frame.writeUInt32BE(request.length, 1);
frame.set(request, 5);
writeFileSync(grpcBody, frame);

/** Runs a command to its end and returns its standard output. */
function run(command: string, argv: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, argv, { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
    child.once("error", reject);
    child.once("exit", (code) => {
      if (code === 0) resolve(out);
      else reject(new Error(`${command} exited with ${code ?? "a signal"}:\n${out}`));
    });
  });
}

/** Runs the load tool on core 1 for `seconds` and returns requests per second. */
async function load(group: Group, port: number, seconds: number): Promise<number> {
  if (group === "grpc") {
    const out = await run("taskset", [
      "-c",
      "1",
      "h2load",
      "-D",
      String(seconds),
      "-c",
      "8",
      "-m",
      "32",
      "-t",
      "1",
      "-d",
      grpcBody,
      "-H",
      "content-type: application/grpc",
      "-H",
      "te: trailers",
      `http://127.0.0.1:${port}/helloworld.v1.Greeter/SayHello`,
    ]);
    const failed = Number(/(\d+) failed/.exec(out)?.[1] ?? 0);
    if (failed > 0) throw new Error(`h2load saw ${failed} failed requests:\n${out}`);
    return Number(/finished in [\d.]+s, ([\d.]+) req\/s/.exec(out)?.[1] ?? 0);
  }
  const target =
    group === "http"
      ? [`http://127.0.0.1:${port}/helloworld/kratos`]
      : ["-s", connectLua, `http://127.0.0.1:${port}/helloworld.v1.Greeter/SayHello`];
  const out = await run("taskset", [
    "-c",
    "1",
    "wrk",
    "-t",
    "1",
    "-c",
    "64",
    "-d",
    `${seconds}s`,
    ...target,
  ]);
  if (/Non-2xx or 3xx responses/.test(out)) throw new Error(`wrk saw error responses:\n${out}`);
  return Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 0);
}

/** Checks that a server answers the scenario's request correctly before it is measured. */
async function check(group: Group, port: number): Promise<void> {
  if (group === "http") {
    // Every HTTP server must send the same bytes, or the comparison is not fair.
    const body = await (await fetch(`http://127.0.0.1:${port}/helloworld/kratos`)).text();
    if (body !== helloJson) throw new Error(`bad reply ${body}, want ${helloJson}`);
    return;
  }
  if (group === "connect") {
    const res = await fetch(`http://127.0.0.1:${port}/helloworld.v1.Greeter/SayHello`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '{"name":"kratos"}',
    });
    const body = (await res.json()) as { message: string };
    if (body.message !== "Hello kratos") throw new Error(`bad reply ${JSON.stringify(body)}`);
    return;
  }
  const reply = await new Promise<Buffer>((resolve, reject) => {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    const req = session.request({
      ":method": "POST",
      ":path": "/helloworld.v1.Greeter/SayHello",
      "content-type": "application/grpc",
      te: "trailers",
    });
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      session.close();
      resolve(Buffer.concat(chunks));
    });
    req.on("error", reject);
    req.end(frame);
  });
  const message = fromBinary(HelloReplySchema, reply.subarray(5)).message;
  if (message !== "Hello kratos") throw new Error(`bad gRPC reply "${message}"`);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] ?? 0)
    : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/** Starts servers, checks them, warms them up together, runs `measure`, and stops them. */
async function withServers<T>(
  list: Scenario[],
  measure: (running: Running[]) => Promise<T>,
): Promise<T> {
  const running: Running[] = [];
  try {
    for (const s of list) running.push(await startServer(s));
    await Promise.all(list.map((s, i) => check(s.group, running[i]?.port ?? 0)));
    // Warm-up, one server at a time: JIT and connection pools.
    for (const [i, s] of list.entries()) await load(s.group, running[i]?.port ?? 0, warmup);
    return await measure(running);
  } finally {
    for (const r of running) await stopServer(r.child);
  }
}

interface RoundResult {
  ratio: number;
  subject: number;
  peer: number;
}

/**
 * Measures a pair: `starts` times, both servers started (odd starts the subject first, even ones
 * the peer first) and warmed up one after the other, then `rounds` rounds of one slice each,
 * loaded one at a time; the first round of a start loads the server started first.
 */
async function measurePair(
  pair: Pair,
  report: (round: RoundResult, start: number, n: number) => void,
): Promise<RoundResult[]> {
  const out: RoundResult[] = [];
  const slice = (s: Scenario, r: Running | undefined) => load(s.group, r?.port ?? 0, duration);
  for (let start = 1; start <= starts; start++) {
    const subjectFirst = start % 2 === 1;
    const order = subjectFirst ? [pair.subject, pair.peer] : [pair.peer, pair.subject];
    await withServers(order, async (running) => {
      const subject = running[subjectFirst ? 0 : 1];
      const peer = running[subjectFirst ? 1 : 0];
      for (let round = 1; round <= rounds; round++) {
        let a: number;
        let b: number;
        if ((round % 2 === 1) === subjectFirst) {
          a = await slice(pair.subject, subject);
          b = await slice(pair.peer, peer);
        } else {
          b = await slice(pair.peer, peer);
          a = await slice(pair.subject, subject);
        }
        const result = { ratio: a / b, subject: a, peer: b };
        out.push(result);
        report(result, start, round);
      }
    });
  }
  return out;
}

/** A server alone: its req/s and its RSS right after the load. */
function measureSolo(s: Scenario): Promise<{ rate: number; rss: number }> {
  return withServers([s], async ([server]) => {
    const rate = await load(s.group, server?.port ?? 0, soloDuration);
    const pid = server?.child.pid;
    return { rate, rss: pid === undefined ? 0 : rssMiB(pid) };
  });
}

async function main(): Promise<void> {
  ensureTools();
  process.stdout.write(
    `${pairs.length} pairs x ${starts} starts x ${rounds} rounds x 2 slices of ${duration} s ` +
      `after ${warmup} s of warm-up per server (both servers of a pair up on core 0, loaded ` +
      `one at a time from core 1); kratos-ts ` +
      `servers run with ` +
      serviceNodeFlags.join(" ") +
      (nodeOptions.length > 0 ? `, every server with ${nodeOptions.join(" ")}` : "") +
      "\n",
  );
  const ratios = new Map<Pair, RoundResult[]>();
  for (const pair of pairs) {
    const name = `${pair.subject.name} / ${pair.peer.name}`;
    const list = await measurePair(pair, (r, start, round) => {
      process.stdout.write(
        `${name}, start ${start} round ${round}: ` +
          `${r.subject.toFixed(0)} / ${r.peer.toFixed(0)} req/s = ` +
          `${r.ratio.toFixed(2)}x\n`,
      );
    });
    ratios.set(pair, list);
  }
  const lines = [
    "",
    "| pair (subject / peer, interleaved on one core) | per-round req/s (subject/peer) | median ratio | target | |",
    "| --- | --- | ---: | ---: | --- |",
  ];
  for (const pair of pairs) {
    const list = ratios.get(pair) ?? [];
    const ratio = median(list.map((r) => r.ratio));
    const rates = list.map((r) => `${r.subject.toFixed(0)}/${r.peer.toFixed(0)}`).join(", ");
    const verdict =
      pair.target !== undefined ? (ratio >= pair.target ? "met" : "NOT met") : pair.shows;
    const target = pair.target === undefined ? "" : `>= ${pair.target.toFixed(2)}x`;
    const spread = `${Math.min(...list.map((r) => r.ratio)).toFixed(2)}-${Math.max(...list.map((r) => r.ratio)).toFixed(2)}`;
    lines.push(
      `| ${pair.subject.name} / ${pair.peer.name} | ${rates} | ${ratio.toFixed(2)}x (${spread}) | ${target} | ${verdict} |`,
    );
  }
  if (args.solo) {
    lines.push(
      "",
      `| server alone, ${soloDuration} s of load | req/s | RSS after | target | |`,
      "| --- | ---: | ---: | ---: | --- |",
    );
    for (const s of soloScenarios) {
      const { rate, rss } = await measureSolo(s);
      const subject = isKit(s);
      const verdict = subject ? (rss < 150 ? "met" : "NOT met") : "peer";
      lines.push(
        `| ${s.name} | ${rate.toFixed(0)} | ${rss.toFixed(0)} MiB | ${subject ? "< 150 MiB" : ""} | ${verdict} |`,
      );
      process.stdout.write(`alone: ${s.name} ${rate.toFixed(0)} req/s, ${rss.toFixed(0)} MiB\n`);
    }
  }
  process.stdout.write(lines.join("\n") + "\n");
}

await main();
