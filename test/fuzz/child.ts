// The parent's side of the fuzz target: spawns target-server.js with the running Node, learns
// its endpoints over IPC, asks for RSS, watches for an unexpected exit, and stops it with
// SIGTERM under a bound at the end.
import { fork } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { serviceNodeFlags } from "../../src/internal/node-flags.js";
import type { ChildMessage, Memory, ParentMessage } from "./target-ipc.js";

export type { Memory };

const targetMain = fileURLToPath(new URL("./target-server.js", import.meta.url));

/** How the child ended. */
export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A running fuzz target. */
export interface FuzzTarget {
  readonly http: URL;
  readonly grpc: URL;
  readonly pid: number;
  /** Set once the child has exited (for any reason). */
  exit(): ChildExit | undefined;
  /** Resolves when the child exits. */
  readonly exited: Promise<ChildExit>;
  /** Everything the child wrote to stderr so far. */
  stderr(): string;
  /** Whether the child answers a heartbeat within `timeoutMs` (its event loop turns). */
  ping(timeoutMs: number): Promise<boolean>;
  /**
   * Memory, after a full GC unless `gc` is false; rejects after `timeoutMs` (a child that
   * cannot answer).
   */
  memory(timeoutMs: number, gc?: boolean): Promise<Memory>;
  /**
   * Sends SIGTERM and waits up to `timeoutMs` for the exit; after that, SIGKILL. Resolves with
   * whether the child exited on SIGTERM within the bound, and how.
   */
  stop(timeoutMs: number): Promise<{ graceful: boolean; exit: ChildExit }>;
  /** SIGKILL, for teardown after a failure. */
  kill(): Promise<void>;
}

/** Starts the target and resolves once both servers listen (rejects after `timeoutMs`). */
export async function startTarget(timeoutMs = 20_000): Promise<FuzzTarget> {
  const child = fork(targetMain, [], {
    execPath: process.execPath,
    execArgv: [...serviceNodeFlags, "--expose-gc", "--enable-source-maps"],
    stdio: ["ignore", "ignore", "pipe", "ipc"],
  });
  // A child that dies while a message is on its way makes `send` fail (EPIPE); that death is
  // seen through 'exit', and must not become an unhandled 'error' in the fuzzer itself.
  child.on("error", () => undefined);
  let stderr = "";
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  let exit: ChildExit | undefined;
  const exited = new Promise<ChildExit>((resolve) => {
    child.once("exit", (code, signal) => {
      exit = { code, signal };
      resolve(exit);
    });
  });
  const ready = await waitForMessage(child, exited, timeoutMs, (m) => m.type === "ready").catch(
    async (err: unknown) => {
      child.kill("SIGKILL");
      await exited;
      throw new Error(`fuzz target did not start: ${String(err)}\nstderr: ${stderr}`);
    },
  );
  if (ready.type !== "ready") throw new Error("unreachable");
  let pings = 0;
  return {
    http: new URL(ready.http),
    grpc: new URL(ready.grpc),
    pid: child.pid ?? 0,
    exit: () => exit,
    exited,
    stderr: () => stderr,
    async ping(ms) {
      const seq = ++pings;
      const request: ParentMessage = { type: "ping", seq };
      if (!child.connected) return false;
      child.send(request, ignoreSendError);
      return waitForMessage(child, exited, ms, (m) => m.type === "pong" && m.seq === seq).then(
        () => true,
        () => false,
      );
    },
    async memory(ms, gc = true) {
      const request: ParentMessage = { type: "stats", gc };
      if (!child.connected) throw new Error("the child has no IPC channel");
      child.send(request, ignoreSendError);
      const stats = await waitForMessage(child, exited, ms, (m) => m.type === "stats");
      if (stats.type !== "stats") throw new Error("unreachable");
      const { rss, heapUsed, external, handles } = stats;
      return { rss, heapUsed, external, handles };
    },
    async stop(ms) {
      if (exit !== undefined) return { graceful: false, exit };
      child.kill("SIGTERM");
      const graceful = await within(exited, ms);
      if (!graceful) child.kill("SIGKILL");
      return { graceful, exit: await exited };
    },
    async kill() {
      if (exit === undefined) child.kill("SIGKILL");
      await exited;
    },
  };
}

/** A failed IPC send: the child is gone, which its 'exit' reports. */
function ignoreSendError(): void {
  // Nothing to do.
}

/** Whether `promise` settles within `ms`. */
export async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(resolve, ms, false);
  });
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The next IPC message that matches, or a rejection on exit or timeout. */
function waitForMessage(
  child: ChildProcess,
  exited: Promise<ChildExit>,
  ms: number,
  match: (m: ChildMessage) => boolean,
): Promise<ChildMessage> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: ChildMessage) => {
      if (!match(m)) return;
      done();
      resolve(m);
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`no answer over IPC within ${ms} ms`));
    }, ms);
    const done = () => {
      clearTimeout(timer);
      child.off("message", onMessage);
    };
    child.on("message", onMessage);
    void exited.then((e) => {
      done();
      reject(new Error(`child exited (code ${String(e.code)}, signal ${String(e.signal)})`));
    });
  });
}
