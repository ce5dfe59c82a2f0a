// A server binary run by a test harness (etcd, redis-server, nats-server): spawned, probed
// until ready, stopped with a signal and started again on the same arguments.
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { connect } from "node:net";

/** Options of {@link daemon}. */
export interface DaemonOptions {
  /** For messages: `redis-server`, `nats-server`, `etcd`. */
  readonly name: string;
  readonly binary: string;
  readonly args: readonly string[];
  /** True once the server answers; called every 20 ms until it does (15 s at most). */
  readonly ready: () => Promise<boolean>;
}

/** A server process that can be started, stopped and started again. */
export interface Daemon {
  /** Spawns the binary and waits until `ready`; throws with its last output if it exits. */
  launch(): Promise<void>;
  /** Sends `signal` and waits for the exit; nothing when it is not running. */
  halt(signal: NodeJS.Signals): Promise<void>;
  /** Whether the process is running now. */
  running(): boolean;
}

/** The process management of a test server; see {@link DaemonOptions}. */
export function daemon(options: DaemonOptions): Daemon {
  let child: ChildProcess | undefined;
  const alive = (proc: ChildProcess | undefined): proc is ChildProcess =>
    proc !== undefined && proc.exitCode === null && proc.signalCode === null;
  return {
    async launch() {
      let output = "";
      const proc = spawn(options.binary, options.args, { stdio: ["ignore", "pipe", "pipe"] });
      const keep = (chunk: string) => {
        output = (output + chunk).slice(-4000);
      };
      proc.stdout.setEncoding("utf8").on("data", keep);
      proc.stderr.setEncoding("utf8").on("data", keep);
      child = proc;
      const deadline = Date.now() + 15_000;
      while (Date.now() < deadline) {
        if (proc.exitCode !== null)
          throw new Error(`${options.name} exited with ${proc.exitCode}: ${output}`);
        if (await options.ready()) return;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      throw new Error(`${options.name} was not ready within 15 s: ${output}`);
    },
    async halt(signal) {
      const proc = child;
      child = undefined;
      if (!alive(proc)) return;
      const exited = new Promise<void>((resolve) =>
        proc.once("exit", () => {
          resolve();
        }),
      );
      proc.kill(signal);
      await exited;
    },
    running: () => alive(child),
  };
}

/**
 * Opens a plain socket to `port` on loopback, writes `send` (if any) and resolves true when the
 * first line that comes back starts with `prefix`; false on an error or after a second.
 */
export function firstLineIs(port: number, prefix: string, send?: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: "127.0.0.1" });
    let reply = "";
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => {
      done(false);
    });
    socket.on("error", () => {
      done(false);
    });
    if (send !== undefined) {
      socket.on("connect", () => {
        socket.write(send);
      });
    }
    socket.setEncoding("utf8").on("data", (chunk: string) => {
      reply += chunk;
      if (reply.includes("\r\n")) done(reply.startsWith(prefix));
    });
  });
}

/**
 * The `skip` option of a suite that needs `binary`: a reason when it is not installed, false
 * when it is or when the suite's `KRATOS_TEST_REQUIRE_*` variable asks that it fail instead.
 */
export function skipUnless(available: boolean, required: boolean, reason: string): string | false {
  return available || required ? false : reason;
}
