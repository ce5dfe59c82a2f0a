// Runs the built helloworld service as a child process, as `npm start` does (its bundle,
// dist/bundle/server/main.js), and reads its JSON log lines to learn its ports and follow it.
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { serviceNodeFlags } from "../../src/internal/node-flags.js";
import { serviceBundle } from "../../src/internal/service-bundle.js";
import { repoRoot } from "./repo.js";

/** The service's entry point as `npm start` runs it: the bundle of the compiled one. */
export const serviceMain = join(repoRoot, serviceBundle("server"));

/** A log line of the service. */
export type LogLine = Record<string, unknown>;

/** A service process and what it has written so far. */
export interface ServiceProcess {
  readonly child: ChildProcess;
  readonly lines: LogLine[];
  stderr(): string;
  /** Resolves with the first line (already written or coming) that matches. */
  waitForLine(match: (line: LogLine) => boolean): Promise<LogLine>;
  /** Resolves with the exit code once the process has exited. */
  exited: Promise<number | null>;
  /**
   * Resolves when its stdout has closed: every process writing to it (the command and any
   * process it started) has exited or closed it.
   */
  closed: Promise<void>;
}

/**
 * Spawns the service with `args` in `cwd` (relative paths in the config resolve there); `main`
 * runs another entry point (a project made by `kratos-ts new`).
 */
export function spawnService(
  args: readonly string[],
  cwd: string,
  env: Record<string, string> = {},
  main = serviceMain,
): ServiceProcess {
  return spawnLogged(process.execPath, [...serviceNodeFlags, main, ...args], cwd, {
    ...process.env,
    ...env,
  });
}

/**
 * Spawns any command that runs a service (`npm start`, `kratos-ts run`) with exactly `env`,
 * following the JSON log lines on its stdout.
 */
export function spawnLogged(
  command: string,
  args: readonly string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
): ServiceProcess {
  const child = spawn(command, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
  const lines: LogLine[] = [];
  const waiters: { match: (line: LogLine) => boolean; resolve: (line: LogLine) => void }[] = [];
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  const reader = createInterface({ input: child.stdout });
  const closed = new Promise<void>((resolve) => reader.once("close", resolve));
  reader.on("line", (text) => {
    let line: LogLine;
    try {
      line = JSON.parse(text) as LogLine;
    } catch {
      line = { msg: text, unparsed: true };
    }
    lines.push(line);
    for (const waiter of [...waiters]) {
      if (waiter.match(line)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(line);
      }
    }
  });
  return {
    child,
    lines,
    exited,
    closed,
    stderr: () => stderr,
    waitForLine(match) {
      const seen = lines.find(match);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        waiters.push({ match, resolve });
        void exited.then((code) => {
          reject(new Error(`service exited (${String(code)}) before the line; stderr: ${stderr}`));
        });
      });
    },
  };
}

/** Spawns the service and waits until it has started; returns its HTTP and gRPC endpoints. */
export function startService(
  args: readonly string[],
  cwd: string,
  env?: Record<string, string>,
  entry: { main: string; name: string } = { main: serviceMain, name: "helloworld" },
): Promise<ServiceProcess & { http: URL; grpc: URL }> {
  return started(spawnService(args, cwd, env, entry.main), entry.name);
}

/**
 * Waits until the service `name` in `service` has started; adds its HTTP and gRPC endpoints (the
 * gRPC one `grpcs://` when it serves TLS).
 */
export async function started(
  service: ServiceProcess,
  name: string,
): Promise<ServiceProcess & { http: URL; grpc: URL }> {
  const started = await service.waitForLine((l) => l["msg"] === `${name} started`);
  const endpoints = started["endpoints"] as string[];
  const http = endpoints.find((e) => e.startsWith("http://"));
  const grpc = endpoints.find((e) => e.startsWith("grpc://") || e.startsWith("grpcs://"));
  if (http === undefined || grpc === undefined) throw new Error(`endpoints: ${endpoints.join()}`);
  return { ...service, http: new URL(http), grpc: new URL(grpc) };
}

/** Options of {@link writeLayoutConfig}. */
export interface LayoutConfigOptions {
  /** etcd's client URL: the service registers there (`registry.etcd`). Default: no registry. */
  etcd?: string;
  /** The lease TTL in seconds, with `etcd`. Default 5. */
  ttl?: number;
  /** The version the service registers with, with `etcd` (`registry.version`). Default: its own. */
  version?: string;
  /** Origins that may call both servers from a page (`server.<http|grpc>.cors`). Default: none. */
  corsOrigins?: string[];
  /** A Redis address (`data.redis.addr`). Default: none. */
  redis?: string;
  /** A NATS address (`data.nats.addr`). Default: none. */
  nats?: string;
  /** More top-level YAML lines. */
  extra?: string[];
}

/**
 * Writes `<dir>/configs/config.yaml` for a layout process of a test: both servers on loopback
 * port 0 and an in-memory database, so several processes can run side by side.
 */
export function writeLayoutConfig(dir: string, options: LayoutConfigOptions = {}): void {
  const cors =
    options.corsOrigins === undefined
      ? ""
      : `, cors: { origins: [${options.corsOrigins.map((o) => JSON.stringify(o)).join(", ")}] }`;
  const lines = [
    "server:",
    `  http: { addr: 127.0.0.1:0${cors} }`,
    `  grpc: { addr: 127.0.0.1:0${cors} }`,
    "data:",
    "  database: { driver: sqlite, source: ':memory:' }",
  ];
  if (options.redis !== undefined)
    lines.push(`  redis: { addr: ${JSON.stringify(options.redis)} }`);
  if (options.nats !== undefined) lines.push(`  nats: { addr: ${JSON.stringify(options.nats)} }`);
  if (options.etcd !== undefined) {
    lines.push("registry:", `  etcd: { endpoints: [${options.etcd}], ttl: ${options.ttl ?? 5}s }`);
    if (options.version !== undefined) lines.push(`  version: ${options.version}`);
  }
  lines.push(...(options.extra ?? []));
  mkdirSync(join(dir, "configs"), { recursive: true });
  writeFileSync(join(dir, "configs", "config.yaml"), `${lines.join("\n")}\n`);
}
