// Starts test/fixtures/hostile/target.ts in a child process and follows it: a crash is an exit
// the test can see, a spinning event loop a probe that goes unanswered.
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";
import type { GrpcServerOptions } from "../../src/transport/grpc/index.js";
import type { HttpServerOptions } from "../../src/transport/http/index.js";
import { repoRoot } from "./repo.js";

const targetMain = join(repoRoot, "dist", "test", "fixtures", "hostile", "target.js");

/** The limits the target's servers take (see the fixture). */
export interface TargetOptions {
  grpc?: GrpcServerOptions;
  http?: HttpServerOptions;
}

/** A running target. */
export interface Target {
  readonly child: ChildProcess;
  readonly grpcPort: number;
  readonly httpPort: number;
  /** What the target wrote to stderr so far (a crash's stack). */
  stderr(): string;
  /** Whether the process has exited. */
  exited(): boolean;
  /** Ends the target with SIGTERM and resolves with its exit code (SIGKILL after `graceMs`). */
  stop(graceMs?: number): Promise<number | null>;
}

/** Starts a target and resolves once both ports listen. */
export async function startTarget(options: TargetOptions = {}): Promise<Target> {
  const child = spawn(process.execPath, [targetMain], {
    env: { ...process.env, KRATOS_TARGET_OPTIONS: JSON.stringify(options) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  let done = false;
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const exit = new Promise<number | null>((resolve) => {
    child.once("exit", (code) => {
      done = true;
      resolve(code);
    });
  });
  const ports = await new Promise<{ grpc: number; http: number }>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.once("line", (line) => {
      resolve(JSON.parse(line) as { grpc: number; http: number });
    });
    void exit.then((code) => {
      reject(new Error(`target exited (${String(code)}) before listening: ${stderr}`));
    });
  });
  return {
    child,
    grpcPort: ports.grpc,
    httpPort: ports.http,
    stderr: () => stderr,
    exited: () => done,
    async stop(graceMs = 10_000) {
      if (done) return exit;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      try {
        return await exit;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
