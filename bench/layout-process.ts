// The layout's service as `npm start` runs it, for bench/run.ts and bench/growth.ts: its bundle
// (dist/bundle/server/) with the shipped configs/config.yaml (its middleware chain, info call
// log, telemetry, OpenAPI route), only its two addresses moved to loopback port 0 and the
// database to memory, so no file is written and two copies can run side by side.
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { serviceNodeFlags } from "../src/internal/node-flags.js";
import { serviceBundle } from "../src/internal/service-bundle.js";

const repoRoot = fileURLToPath(new URL("../../", import.meta.url));

/** A started layout process and its two ports. */
export interface LayoutProcess {
  child: ChildProcess;
  httpPort: number;
  grpcPort: number;
}

/**
 * Starts the layout on core 0 (`taskset -c 0`) with `extraFlags` after the layout's own Node
 * flags and `env` over its environment (config overrides such as an OTLP endpoint). Its log
 * lines go to a file in `workDir`, as a service's stdout goes to a file or a collector: read by
 * nobody here, so the runner takes no CPU from the load tool.
 */
export async function startLayout(
  workDir: string,
  extraFlags: string[],
  env: Record<string, string> = {},
): Promise<LayoutProcess> {
  const logFile = join(workDir, `layout-${Date.now()}-${Math.random().toString(36).slice(2)}.log`);
  const out = openSync(logFile, "w");
  const child = spawn(
    "taskset",
    [
      "-c",
      "0",
      process.execPath,
      ...serviceNodeFlags,
      ...extraFlags,
      join(repoRoot, serviceBundle("server")),
      "-conf",
      "./configs",
    ],
    {
      cwd: repoRoot,
      env: {
        ...process.env,
        NODE_ENV: "production",
        HELLOWORLD_SERVER__HTTP__ADDR: "127.0.0.1:0",
        HELLOWORLD_SERVER__GRPC__ADDR: "127.0.0.1:0",
        HELLOWORLD_DATA__DATABASE__SOURCE: ":memory:",
        ...env,
      },
      stdio: ["ignore", out, "inherit"],
    },
  );
  closeSync(out);
  const deadline = Date.now() + 20_000;
  for (;;) {
    const started = /"endpoints":\["http:\/\/[^"]*:(\d+)","grpc:\/\/[^"]*:(\d+)"\]/.exec(
      readFileSync(logFile, "utf8"),
    );
    if (started !== null) {
      return { child, httpPort: Number(started[1]), grpcPort: Number(started[2]) };
    }
    if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`the layout did not start; its log:\n${readFileSync(logFile, "utf8")}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
