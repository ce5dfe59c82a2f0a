// `npm run bench:growth` (and the end of `npm run bench`): how kratos-ts's cost grows (issue 25,
// item 7), each part with a chart written to bench/charts/*.svg and a markdown table printed:
//
// - payload: throughput against reply payload size (100 B, 10 KiB, 1 MiB), kratos-ts gRPC vs
//   grpc-js and kratos-ts HTTP JSON vs fastify, in interleaved pairs (growth/payload.ts);
// - streaming: server-streaming messages per second, kratos-ts vs grpc-js (growth/streaming.ts);
// - latency: p50 / p99 of the layout as shipped against offered load, open loop, up to and past
//   saturation (growth/latency.ts, open-loop.ts);
// - connections: RSS with 10,000 open idle connections, HTTP/1.1 and HTTP/2, against the peers
//   (growth/connections.ts, hold-connections.ts).
//
// The conventions are bench/run.ts's (bench/harness.ts): servers pinned to core 0 and started
// fresh, load from core 1, every server warmed up, the kratos-ts servers with the layout's Node
// flags and the peers with Node's defaults, ratios from interleaved slices.
//
// Options: --only=<payload,streaming,latency,connections> (default all), --duration=<seconds
// per slice> (default 2), --warmup=<seconds per server> (default 3), --starts=<fresh pairs>
// (default 2), --rounds=<rounds per start> (default 1), --latency-step=<seconds per offered
// rate> (default 3), --messages=<per streaming call> (default 1000), --connections=<n> (default
// 10000), --node-options="<flags>" (for every server), --no-charts (tables only). The defaults
// take about five minutes; e.g. --starts=4 --rounds=2 --duration=3 --latency-step=6 for a
// steadier run.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { serviceNodeFlags } from "../src/internal/node-flags.js";
import { writeChart } from "./chart.js";
import {
  connectionServers,
  connectionsChart,
  connectionsTable,
  measureConnections,
} from "./growth/connections.js";
import { latencyChart, latencyTable, measureLatency } from "./growth/latency.js";
import { measurePayload, payloadChart, payloadTable } from "./growth/payload.js";
import { measureStreaming, streamingChart, streamingTable } from "./growth/streaming.js";
import { createHarness, ensureTools } from "./harness.js";

const parts = ["payload", "streaming", "latency", "connections"] as const;
type Part = (typeof parts)[number];

const { values: args } = parseArgs({
  options: {
    only: { type: "string", default: parts.join(",") },
    duration: { type: "string", default: "2" },
    warmup: { type: "string", default: "3" },
    starts: { type: "string", default: "2" },
    rounds: { type: "string", default: "1" },
    "latency-step": { type: "string", default: "3" },
    messages: { type: "string", default: "1000" },
    connections: { type: "string", default: "10000" },
    "node-options": { type: "string", default: "" },
    charts: { type: "boolean", default: true },
  },
  allowNegative: true,
});

type Count =
  "duration" | "warmup" | "starts" | "rounds" | "latency-step" | "messages" | "connections";
/** A whole number >= 1 from an option, or one line naming the option and an exit. */
function count(name: Count): number {
  const value = Number(args[name]);
  if (Number.isInteger(value) && value >= 1) return value;
  process.stderr.write(
    `bench:growth: --${name} must be a whole number >= 1, got "${args[name]}"\n`,
  );
  process.exit(2);
}
const only = new Set(args.only.split(","));
for (const part of only) {
  if (!(parts as readonly string[]).includes(part)) {
    process.stderr.write(`bench:growth: --only takes ${parts.join(", ")}; got "${part}"\n`);
    process.exit(2);
  }
}
const wants = (part: Part): boolean => only.has(part);
const pairOptions = {
  duration: count("duration"),
  starts: count("starts"),
  rounds: count("rounds"),
};
const connections = count("connections");

/**
 * Holding `connections` sockets needs a higher open-file limit than the usual soft 1024, in this
 * process's children (the servers and the client). Node cannot raise its own, so the bench runs
 * itself again under a shell that does, once; the hard limit bounds what it may ask for.
 */
function ensureFileLimit(): void {
  if (!wants("connections")) return;
  const limits = execFileSync("sh", ["-c", "ulimit -n; ulimit -Hn"], { encoding: "utf8" });
  const [soft, hard] = limits
    .trim()
    .split("\n")
    .map((l) => (l === "unlimited" ? Infinity : Number(l)));
  const needed = connections + 1024;
  if ((soft ?? 0) >= needed) return;
  if ((hard ?? 0) < needed || process.env.KRATOS_GROWTH_ULIMIT !== undefined) {
    process.stderr.write(
      `bench:growth: ${connections} connections need an open-file limit of ${needed}; the hard ` +
        `limit is ${hard}. Raise it, or pass --connections with fewer.\n`,
    );
    process.exit(2);
  }
  const again = spawnSync(
    "sh",
    ["-c", `ulimit -n ${needed} && exec "$0" "$@"`, process.execPath, ...process.argv.slice(1)],
    { stdio: "inherit", env: { ...process.env, KRATOS_GROWTH_ULIMIT: "1" } },
  );
  process.exit(again.status ?? 1);
}

async function main(): Promise<void> {
  ensureFileLimit();
  ensureTools();
  const work = mkdtempSync(join(tmpdir(), "kratos-growth-"));
  const nodeOptions = args["node-options"].split(/\s+/).filter((flag) => flag !== "");
  const harness = createHarness({ work, nodeOptions, warmup: count("warmup") });
  const chartsDir = fileURLToPath(new URL("../../bench/charts/", import.meta.url));
  mkdirSync(chartsDir, { recursive: true });
  const log = (line: string): void => {
    process.stdout.write(line + "\n");
  };
  const chart = async (name: string, spec: Parameters<typeof writeChart>[1]): Promise<void> => {
    if (!args.charts) return;
    await writeChart(join(chartsDir, `${name}.svg`), spec);
    log(`wrote bench/charts/${name}.svg`);
  };
  log(
    `how cost grows: ${[...only].join(", ")}; servers on core 0, load from core 1; kratos-ts ` +
      `servers run with ${serviceNodeFlags.join(" ")}` +
      (nodeOptions.length > 0 ? `, every server with ${nodeOptions.join(" ")}` : ""),
  );
  const tables: string[] = [];
  if (wants("payload")) {
    const results = await measurePayload(harness, pairOptions, log);
    tables.push("", ...payloadTable(results));
    await chart("payload", payloadChart(results));
  }
  if (wants("streaming")) {
    const result = await measureStreaming(
      harness,
      { ...pairOptions, messages: count("messages") },
      log,
    );
    tables.push("", ...streamingTable(result));
    await chart("streaming", streamingChart(result));
  }
  if (wants("latency")) {
    const result = await measureLatency(harness, { seconds: count("latency-step") }, log);
    tables.push("", ...latencyTable(result));
    await chart("latency", latencyChart(result));
  }
  if (wants("connections")) {
    const results = await measureConnections(
      harness,
      { connections, work, servers: connectionServers },
      log,
    );
    tables.push("", ...connectionsTable(results, connections));
    await chart("connections", connectionsChart(results, connections));
  }
  process.stdout.write(tables.join("\n") + "\n");
}

await main();
