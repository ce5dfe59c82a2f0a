import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { daemon, firstLineIs, skipUnless } from "./daemon.js";
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
  return skipUnless(
    natsAvailable(),
    required,
    "nats-server is not installed (apt-get install nats-server): NATS suites skipped",
  );
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
  const server = daemon({
    name: `nats-server on port ${port}`,
    binary: natsBinary,
    args: ["-js", "-sd", dir, "-a", "127.0.0.1", "-p", String(port)],
    ready: () => greets(port),
  });
  await server.launch();
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    storeDir: dir,
    running: () => server.running(),
    stop: () => server.halt("SIGTERM"),
    kill: () => server.halt("SIGKILL"),
    restart: async () => {
      await server.halt("SIGTERM");
      await server.launch();
    },
    close: async () => {
      await server.halt("SIGTERM");
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Opens a plain socket: true when the server's `INFO {...}` greeting arrives. */
export function greets(port: number): Promise<boolean> {
  return firstLineIs(port, "INFO ");
}
