// `npm run bench`: throughput of kratos-ts against its Node peers on this machine.
//
// Each server runs alone, pinned to core 0 (taskset); the load tool (wrk for HTTP/1.1, h2load
// for gRPC) runs pinned to core 1. Scenarios are interleaved round by round so that drift in
// the machine hits every server alike, and the median of the rounds is reported. Ratios are
// computed within one run; absolute numbers only mean something on the same machine.
//
// Options: --duration=<seconds> (default 10), --rounds=<n> (default 3), --only=<http|grpc|connect>,
// --node-options="<flags>" (extra Node/V8 flags for every server, peers included, e.g.
// --node-options=--max-semi-space-size=8 to bound V8's young generation)
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
import { helloJson } from "./servers/common.js";

const { values: args } = parseArgs({
  options: {
    duration: { type: "string", default: "10" },
    rounds: { type: "string", default: "3" },
    only: { type: "string" },
    "node-options": { type: "string", default: "" },
  },
});
const duration = Number(args.duration);
const rounds = Number(args.rounds);
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

const scenarios: Scenario[] = (
  [
    { name: "node:http (raw)", server: "raw-http", group: "http" },
    { name: "fastify", server: "fastify", group: "http" },
    { name: "kratos-ts HTTP", server: "kratos-http", group: "http" },
    {
      name: "kratos-ts HTTP, layout chain",
      server: "kratos-http",
      group: "http",
      args: ["--chain=layout"],
    },
    { name: "node:http2 gRPC (raw)", server: "raw-http2-grpc", group: "grpc" },
    { name: "@grpc/grpc-js", server: "grpc-js", group: "grpc" },
    { name: "kratos-ts gRPC", server: "kratos-grpc", group: "grpc" },
    {
      name: "kratos-ts gRPC, layout chain",
      server: "kratos-grpc",
      group: "grpc",
      args: ["--chain=layout"],
    },
    { name: "connect-node (Connect JSON)", server: "connect-node", group: "connect" },
    { name: "kratos-ts (Connect JSON)", server: "kratos-grpc", group: "connect" },
  ] satisfies Scenario[]
).filter((s) => args.only === undefined || s.group === args.only);

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

function startServer(
  file: string,
  args: string[] = [],
): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(
    "taskset",
    ["-c", "0", process.execPath, ...nodeOptions, join(serversDir, `${file}.js`), ...args],
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
      reject(new Error(`server ${file} exited with ${code ?? "signal"} before it was ready`));
    });
  });
}

async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
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

/** Runs the load tool for `seconds` and returns requests per second. */
function load(group: Group, port: number, seconds: number): number {
  if (group === "grpc") {
    const out = execFileSync(
      "taskset",
      [
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
      ],
      { encoding: "utf8" },
    );
    const failed = Number(/(\d+) failed/.exec(out)?.[1] ?? 0);
    if (failed > 0) throw new Error(`h2load saw ${failed} failed requests:\n${out}`);
    return Number(/finished in [\d.]+s, ([\d.]+) req\/s/.exec(out)?.[1] ?? 0);
  }
  const target =
    group === "http"
      ? [`http://127.0.0.1:${port}/helloworld/kratos`]
      : ["-s", connectLua, `http://127.0.0.1:${port}/helloworld.v1.Greeter/SayHello`];
  const out = execFileSync(
    "taskset",
    ["-c", "1", "wrk", "-t", "1", "-c", "64", "-d", `${seconds}s`, ...target],
    {
      encoding: "utf8",
    },
  );
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

async function main(): Promise<void> {
  ensureTools();
  const results = new Map<string, number[]>();
  const rss = new Map<string, number>();
  process.stdout.write(
    `${scenarios.length} scenarios x ${rounds} rounds x ${duration} s (server on core 0, load on core 1)` +
      (nodeOptions.length > 0 ? `, servers run with ${nodeOptions.join(" ")}` : "") +
      "\n",
  );
  for (let round = 1; round <= rounds; round++) {
    // Rotate the order within each group every round, so no server always runs first or last.
    const order = (["http", "grpc", "connect"] as const).flatMap((group) => {
      const members = scenarios.filter((x) => x.group === group);
      const shift = (round - 1) % Math.max(1, members.length);
      return [...members.slice(shift), ...members.slice(0, shift)];
    });
    for (const s of order) {
      const { child, port } = await startServer(s.server, s.args);
      try {
        await check(s.group, port);
        load(s.group, port, 2); // warm-up: JIT and connection pools
        const rate = load(s.group, port, duration);
        const list = results.get(s.name) ?? [];
        list.push(rate);
        results.set(s.name, list);
        if (child.pid !== undefined) {
          rss.set(s.name, Math.max(rss.get(s.name) ?? 0, rssMiB(child.pid)));
        }
        process.stdout.write(
          `round ${round}: ${s.name.padEnd(30)} ${rate.toFixed(0).padStart(8)} req/s\n`,
        );
      } finally {
        await stopServer(child);
      }
    }
  }
  const med = (name: string) => median(results.get(name) ?? [0]);
  const lines = ["", "| scenario | median req/s | rounds |", "| --- | ---: | --- |"];
  for (const s of scenarios) {
    lines.push(
      `| ${s.name} | ${med(s.name).toFixed(0)} | ${(results.get(s.name) ?? []).map((r) => r.toFixed(0)).join(", ")} |`,
    );
  }
  // Ratios pair the runs of one round (measured minutes apart at most), then take the median:
  // steal time on a shared machine moves both sides of a pair together.
  const ratio = (a: string, b: string) => {
    const x = results.get(a);
    const y = results.get(b);
    if (x === undefined || y === undefined) return NaN;
    return median(x.map((v, i) => v / (y[i] ?? NaN)));
  };
  const targets: [string, number, number][] = [
    ["kratos-ts HTTP / node:http", ratio("kratos-ts HTTP", "node:http (raw)"), 0.85],
    ["kratos-ts HTTP / fastify", ratio("kratos-ts HTTP", "fastify"), 1.0],
    ["kratos-ts gRPC / node:http2", ratio("kratos-ts gRPC", "node:http2 gRPC (raw)"), 0.85],
    ["kratos-ts gRPC / grpc-js", ratio("kratos-ts gRPC", "@grpc/grpc-js"), 1.0],
    [
      "kratos-ts HTTP, layout chain / node:http",
      ratio("kratos-ts HTTP, layout chain", "node:http (raw)"),
      0.85,
    ],
    [
      "kratos-ts HTTP, layout chain / fastify",
      ratio("kratos-ts HTTP, layout chain", "fastify"),
      1.0,
    ],
    [
      "kratos-ts gRPC, layout chain / node:http2",
      ratio("kratos-ts gRPC, layout chain", "node:http2 gRPC (raw)"),
      0.85,
    ],
    [
      "kratos-ts gRPC, layout chain / grpc-js",
      ratio("kratos-ts gRPC, layout chain", "@grpc/grpc-js"),
      1.0,
    ],
    [
      "kratos-ts Connect / connect-node",
      ratio("kratos-ts (Connect JSON)", "connect-node (Connect JSON)"),
      4.0,
    ],
  ];
  lines.push("", "| ratio | measured | target | |", "| --- | ---: | ---: | --- |");
  for (const [name, value, target] of targets) {
    if (Number.isNaN(value)) continue;
    lines.push(
      `| ${name} | ${value.toFixed(2)}x | >= ${target.toFixed(2)}x | ${value >= target ? "met" : "NOT met"} |`,
    );
  }
  // What the layout's full chain costs against recovery alone, same transport, same round.
  for (const kind of ["HTTP", "gRPC"]) {
    const cost = ratio(`kratos-ts ${kind}, layout chain`, `kratos-ts ${kind}`);
    if (!Number.isNaN(cost)) {
      lines.push(
        `| kratos-ts ${kind}: layout chain / recovery only | ${cost.toFixed(2)}x | | cost |`,
      );
    }
  }
  for (const [name, mib] of rss) {
    const verdict = name.startsWith("kratos-ts") ? (mib < 150 ? "met" : "NOT met") : "peer";
    lines.push(
      `| RSS of ${name} after ${duration} s of load | ${mib.toFixed(0)} MiB | < 150 MiB | ${verdict} |`,
    );
  }
  process.stdout.write(lines.join("\n") + "\n");
}

await main();
