// `npm run bench:cold-start`: exec -> both ports accepting (the `helloworld started` line) of the
// layout as `npm start` runs it (the bundle, dist/bundle/server/main.js) against the compiled
// tree it is made from (dist/cmd/server/main.js), issue 25's target 4 (< 400 ms, median).
// Starts alternate (bundle, tree, bundle, ...), so both sides are measured seconds apart on a
// machine whose load drifts. Each process runs with the service's Node flags, both servers on
// loopback port 0 and the database in memory, and is stopped by its pid once it has started.
// Besides wall time it reports the CPU time the process had used by then (utime + stime from
// /proc, 10 ms ticks), which another load on the machine inflates less.
//
// Options: --runs=<n> starts of each (default 9).
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { serviceNodeFlags } from "../src/internal/node-flags.js";
import { serviceBundle } from "../src/internal/service-bundle.js";
import { median } from "./harness.js";

const { values: args } = parseArgs({ options: { runs: { type: "string", default: "9" } } });
const runs = Number(args.runs);
if (!Number.isInteger(runs) || runs < 1) {
  process.stderr.write(`bench: --runs must be a whole number >= 1, got "${args.runs}"\n`);
  process.exit(2);
}
const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
const targetMs = 400;

const entries = [
  { name: "bundle (npm start)", main: serviceBundle("server") },
  { name: "compiled tree", main: join("dist", "cmd", "server", "main.js") },
];

interface Start {
  wallMs: number;
  cpuMs: number;
}

/** Starts `main`, resolves when it has logged `helloworld started`, then stops it. */
async function startOnce(main: string): Promise<Start> {
  const began = performance.now();
  const child = spawn(process.execPath, [...serviceNodeFlags, main, "-conf", "./configs"], {
    cwd: repoRoot,
    env: {
      ...process.env,
      HELLOWORLD_SERVER__HTTP__ADDR: "127.0.0.1:0",
      HELLOWORLD_SERVER__GRPC__ADDR: "127.0.0.1:0",
      HELLOWORLD_DATA__DATABASE__SOURCE: ":memory:",
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const exited = new Promise<void>((resolve) => {
    child.once("exit", () => {
      resolve();
    });
  });
  const lines = createInterface({ input: child.stdout });
  try {
    for await (const line of lines) {
      if (!line.includes('"helloworld started"')) continue;
      const wallMs = performance.now() - began;
      // Fields 14 and 15 of /proc/<pid>/stat: user and system time in clock ticks (100 Hz).
      const stat = readFileSync(`/proc/${String(child.pid)}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const cpuMs = (Number(fields[11]) + Number(fields[12])) * 10;
      return { wallMs, cpuMs };
    }
    throw new Error(`${main} exited before it started`);
  } finally {
    lines.close();
    child.kill("SIGTERM");
    await exited;
  }
}

const results = entries.map(() => [] as Start[]);
for (let run = 0; run < runs; run++) {
  // Each run swaps which entry starts first, so neither always follows the other's exit.
  const order = run % 2 === 0 ? [0, 1] : [1, 0];
  for (const i of order) {
    const entry = entries[i];
    if (entry !== undefined) results[i]?.push(await startOnce(entry.main));
  }
}

console.log(`| entry | wall ms (sorted) | median | CPU ms, median |`);
console.log(`| ----- | ---------------- | -----: | -------------: |`);
for (const [i, entry] of entries.entries()) {
  const starts = results[i] ?? [];
  const wall = starts.map((s) => s.wallMs).sort((a, b) => a - b);
  console.log(
    `| ${entry.name} \`${entry.main}\` | ${wall.map((w) => w.toFixed(0)).join(", ")} | ` +
      `${median(wall).toFixed(0)} | ${median(starts.map((s) => s.cpuMs)).toFixed(0)} |`,
  );
}
const bundle = median((results[0] ?? []).map((s) => s.wallMs));
const tree = median((results[1] ?? []).map((s) => s.wallMs));
console.log(
  `\nbundle / compiled tree: ${(bundle / tree).toFixed(2)}x; target < ${targetMs} ms: ` +
    `${bundle < targetMs ? "met" : "not met"} (${bundle.toFixed(0)} ms)`,
);
