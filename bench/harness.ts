// The load harness shared by bench/run.ts and bench/growth.ts: it starts a bench server pinned
// to core 0, checks that it answers right, loads it from core 1 with wrk (HTTP/1.1) or h2load
// (gRPC), and measures a pair of servers in interleaved slices (see README.md, "Why this
// method"). Every server runs as it ships: the peers with Node's defaults, the kratos-ts servers
// with the flags the layout starts its service with (src/internal/node-flags.ts).
import { execFileSync, spawn } from "node:child_process";
import type { ChildProcess, ChildProcessByStdio } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import http2 from "node:http2";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { serviceNodeFlags } from "../src/internal/node-flags.js";
import { helloCalls } from "./calls.js";
import type { Call, Group } from "./calls.js";
import { startLayout } from "./layout-process.js";

/** A bench server and how it is loaded. */
export interface Scenario {
  name: string;
  /** The script in bench/servers/ (without `.js`), or "layout" for bench/layout-process.ts. */
  server: string;
  group: Group;
  /** Extra arguments of the server script (`--chain=layout`, `--payload=1024`). */
  args?: string[];
  /** The call to load it with; the helloworld call of its group when absent. */
  call?: Call;
  /** Environment variables the server starts with (the layout's config overrides). */
  env?: Record<string, string>;
  /** Node/V8 flags of this scenario's server, after the kit's and the run's. */
  flags?: string[];
}

/** The kratos-ts servers (the others are peers): they run with the layout's Node flags. */
export function isKit(s: Scenario): boolean {
  return s.server.startsWith("kratos-") || s.server === "layout";
}

/** A started server and the port its scenario is loaded on. */
export interface Running {
  child: ChildProcess;
  port: number;
}

/** Installs wrk and h2load from Debian when they are missing (the machine's root user can). */
export function ensureTools(): void {
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

/** The port a bench server prints in its `READY <port>` line (bench/servers/common.ts). */
export function readyPort(
  child: ChildProcessByStdio<null, Readable, null>,
  what: string,
): Promise<number> {
  return new Promise((resolve, reject) => {
    let out = "";
    child.once("error", reject);
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const m = /READY (\d+)/.exec(out);
      if (m !== null) resolve(Number(m[1]));
    });
    child.once("exit", (code) => {
      reject(new Error(`${what} exited with ${code ?? "a signal"} before it was ready`));
    });
  });
}

/** Resident memory of a process in MiB. */
export function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb / 1024;
}

/** Runs a command to its end and returns its standard output. */
export function run(command: string, argv: string[]): Promise<string> {
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

/** Kills a server and waits for it to be gone. */
export async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) =>
    child.once("exit", () => {
      resolve();
    }),
  );
  child.kill("SIGKILL");
  await exited;
}

/** The median of `values` (the mean of the middle two for an even count). */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] ?? 0)
    : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/** One round of a pair: both servers' rates and subject / peer. */
export interface RoundResult {
  ratio: number;
  subject: number;
  peer: number;
}

/** How a pair is measured (see `Harness.measurePair`). */
export interface PairOptions {
  /** Fresh starts of the pair, the start order swapped each time. */
  starts: number;
  /** Rounds per start: one slice of each server. */
  rounds: number;
  /** Seconds per slice. */
  duration: number;
}

/** Options of `createHarness`. */
export interface HarnessOptions {
  /** A scratch folder for load files and the layout's log. */
  work: string;
  /** Extra Node/V8 flags for every server, peers included. */
  nodeOptions: string[];
  /** Seconds of load per server before it is measured. */
  warmup: number;
}

/** Starts, checks, loads and measures bench servers. */
export interface Harness {
  startServer(s: Scenario): Promise<Running>;
  /** Throws when the server's reply to the scenario's call is wrong. */
  check(s: Scenario, port: number): Promise<void>;
  /** Loads a server from core 1 for `seconds`; returns requests per second. */
  load(s: Scenario, port: number, seconds: number): Promise<number>;
  /** Starts servers, checks them, warms them up one by one, runs `measure`, stops them. */
  withServers<T>(list: Scenario[], measure: (running: Running[]) => Promise<T>): Promise<T>;
  /**
   * Measures subject against peer: `starts` times, both servers started (odd starts the subject
   * first) and warmed up, then `rounds` rounds of one slice each, loaded one at a time; the
   * first round of a start loads the server started first.
   */
  measurePair(
    pair: { subject: Scenario; peer: Scenario },
    options: PairOptions,
    report: (round: RoundResult, start: number, n: number) => void,
  ): Promise<RoundResult[]>;
}

/** A harness over one scratch folder, with the run's extra Node flags and warm-up. */
export function createHarness(options: HarnessOptions): Harness {
  const { work, nodeOptions, warmup } = options;
  const serversDir = fileURLToPath(new URL("./servers/", import.meta.url));
  // Body files for wrk (a Lua script) and h2load (-d), one per call, written once.
  const bodyFiles = new Map<Call, string>();
  const bodyFile = (call: Call, group: Group): string => {
    let file = bodyFiles.get(call);
    if (file !== undefined) return file;
    const body = call.body ?? new Uint8Array();
    file = join(work, `call-${bodyFiles.size}.${group === "grpc" ? "bin" : "lua"}`);
    if (group === "grpc") writeFileSync(file, body);
    else {
      const json = JSON.stringify(Buffer.from(body).toString());
      writeFileSync(
        file,
        `wrk.method = "POST"\nwrk.body = ${json}\nwrk.headers["Content-Type"] = "application/json"\n`,
      );
    }
    bodyFiles.set(call, file);
    return file;
  };

  async function startServer(s: Scenario): Promise<Running> {
    if (s.server === "layout") {
      const layout = await startLayout(work, [...nodeOptions, ...(s.flags ?? [])], s.env);
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
        ...(s.flags ?? []),
        join(serversDir, `${s.server}.js`),
        ...(s.args ?? []),
      ],
      {
        env: { ...process.env, ...s.env, PORT: "0", NODE_ENV: "production" },
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    return { child, port: await readyPort(child, `server ${s.server}`) };
  }

  async function check(s: Scenario, port: number): Promise<void> {
    const call = s.call ?? helloCalls[s.group];
    let reply: Buffer;
    if (s.group === "grpc") {
      reply = await new Promise<Buffer>((resolve, reject) => {
        const session = http2.connect(`http://127.0.0.1:${port}`);
        session.on("error", reject);
        const req = session.request({
          ":method": "POST",
          ":path": call.path,
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
        req.end(call.body);
      });
    } else {
      const res = await fetch(`http://127.0.0.1:${port}${call.path}`, {
        ...(call.body === undefined
          ? {}
          : { method: "POST", headers: { "content-type": "application/json" }, body: call.body }),
      });
      reply = Buffer.from(await res.arrayBuffer());
    }
    const wrong = call.verify(reply);
    if (wrong !== undefined) throw new Error(`${s.name}: ${wrong.slice(0, 200)}`);
  }

  async function load(s: Scenario, port: number, seconds: number): Promise<number> {
    const call = s.call ?? helloCalls[s.group];
    const url = `http://127.0.0.1:${port}${call.path}`;
    if (s.group === "grpc") {
      const out = await run("taskset", [
        "-c",
        "1",
        "h2load",
        "-D",
        String(seconds),
        "-c",
        String(call.concurrency?.connections ?? 8),
        "-m",
        String(call.concurrency?.streams ?? 32),
        "-t",
        "1",
        "-d",
        bodyFile(call, s.group),
        "-H",
        "content-type: application/grpc",
        "-H",
        "te: trailers",
        url,
      ]);
      const failed = Number(/(\d+) failed/.exec(out)?.[1] ?? 0);
      if (failed > 0) throw new Error(`h2load saw ${failed} failed requests:\n${out}`);
      return Number(/finished in [\d.]+s, ([\d.]+) req\/s/.exec(out)?.[1] ?? 0);
    }
    const target = call.body === undefined ? [url] : ["-s", bodyFile(call, s.group), url];
    const out = await run("taskset", [
      "-c",
      "1",
      "wrk",
      "-t",
      "1",
      "-c",
      String(call.concurrency?.connections ?? 64),
      "-d",
      `${seconds}s`,
      ...target,
    ]);
    if (/Non-2xx or 3xx responses/.test(out)) throw new Error(`wrk saw error responses:\n${out}`);
    return Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 0);
  }

  async function withServers<T>(
    list: Scenario[],
    measure: (running: Running[]) => Promise<T>,
  ): Promise<T> {
    const running: Running[] = [];
    try {
      for (const s of list) running.push(await startServer(s));
      await Promise.all(list.map((s, i) => check(s, running[i]?.port ?? 0)));
      // Warm-up, one server at a time: JIT and connection pools.
      for (const [i, s] of list.entries()) await load(s, running[i]?.port ?? 0, warmup);
      return await measure(running);
    } finally {
      for (const r of running) await stopServer(r.child);
    }
  }

  async function measurePair(
    pair: { subject: Scenario; peer: Scenario },
    { starts, rounds, duration }: PairOptions,
    report: (round: RoundResult, start: number, n: number) => void,
  ): Promise<RoundResult[]> {
    const out: RoundResult[] = [];
    const slice = (s: Scenario, r: Running | undefined) => load(s, r?.port ?? 0, duration);
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

  return { startServer, check, load, withServers, measurePair };
}
