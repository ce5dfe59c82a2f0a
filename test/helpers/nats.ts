import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./etcd.js";

/** The Debian `nats-server` binary the suites run. */
export const natsBinary = process.env.KRATOS_TEST_NATS_BIN ?? "/usr/sbin/nats-server";

/** Whether the nats-server binary is installed. */
export function natsAvailable(): boolean {
  return existsSync(natsBinary);
}

const required = process.env.KRATOS_TEST_REQUIRE_NATS === "1";

/**
 * The `skip` option of the NATS suites: `describe("...", { skip: natsSkip() }, ...)`. A reason
 * when nats-server is not installed; false when it is, or when `KRATOS_TEST_REQUIRE_NATS=1`
 * asks that a missing server fail the run (then {@link startNats} throws, saying so).
 */
export function natsSkip(): string | false {
  if (natsAvailable() || required) return false;
  return "nats-server is not installed (apt-get install nats-server): NATS suites skipped";
}

/** A running NATS server (JetStream on) of a test. */
export interface NatsServer {
  /** `nats://127.0.0.1:<port>`. */
  readonly url: string;
  readonly port: number;
  /** The JetStream store directory; it survives {@link NatsServer.restart}. */
  readonly storeDir: string;
  /** Whether the server process is running now. */
  running(): boolean;
  /** SIGTERM (a clean JetStream shutdown), wait for the exit. */
  stop(): Promise<void>;
  /** SIGKILL, wait for the exit: what a crash looks like. */
  kill(): Promise<void>;
  /** Starts the server again on the same port and store, and waits until it greets. */
  restart(): Promise<void>;
  /** Stops it and removes its directory. */
  close(): Promise<void>;
}

/**
 * Starts `nats-server -js` on a free loopback port with a store in a fresh temp directory, and
 * resolves once it sends its INFO greeting. JetStream keeps streams and consumers in the store,
 * so messages acknowledged before {@link NatsServer.stop} are there after a restart.
 */
export async function startNats(): Promise<NatsServer> {
  if (!natsAvailable()) {
    throw new Error(`KRATOS_TEST_REQUIRE_NATS=1 but ${natsBinary} is not installed`);
  }
  const dir = mkdtempSync(join(tmpdir(), "kratos-nats-"));
  const port = await freePort();
  const args = ["-js", "-sd", dir, "-a", "127.0.0.1", "-p", String(port)];
  let child: ChildProcess | undefined;
  let output = "";
  const launch = async () => {
    output = "";
    const proc = spawn(natsBinary, args, { stdio: ["ignore", "pipe", "pipe"] });
    const keep = (chunk: string) => {
      output = (output + chunk).slice(-4000);
    };
    proc.stdout.setEncoding("utf8").on("data", keep);
    proc.stderr.setEncoding("utf8").on("data", keep);
    child = proc;
    await waitForGreeting(port, proc, () => output);
  };
  const halt = async (signal: NodeJS.Signals) => {
    const proc = child;
    child = undefined;
    if (proc === undefined || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) =>
      proc.once("exit", () => {
        resolve();
      }),
    );
    proc.kill(signal);
    await exited;
  };
  await launch();
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    storeDir: dir,
    running: () => child !== undefined && child.exitCode === null && child.signalCode === null,
    stop: () => halt("SIGTERM"),
    kill: () => halt("SIGKILL"),
    restart: async () => {
      await halt("SIGTERM");
      await launch();
    },
    close: async () => {
      await halt("SIGTERM");
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Opens a plain socket: true when the server's `INFO {...}` greeting arrives. */
export function greets(port: number): Promise<boolean> {
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
    socket.setEncoding("utf8").on("data", (chunk: string) => {
      reply += chunk;
      if (reply.includes("\r\n")) done(reply.startsWith("INFO "));
    });
  });
}

async function waitForGreeting(port: number, proc: ChildProcess, output: () => string) {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null)
      throw new Error(`nats-server exited with ${proc.exitCode}: ${output()}`);
    if (await greets(port)) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`nats-server on port ${port} did not greet within 15 s: ${output()}`);
}
