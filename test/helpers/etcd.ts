import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { daemon, skipUnless } from "./daemon.js";

/** The Debian `etcd-server` binary the suites run. */
export const etcdBinary = process.env.KRATOS_TEST_ETCD_BIN ?? "/usr/bin/etcd";

/** Whether the etcd binary is installed. */
export function etcdAvailable(): boolean {
  return existsSync(etcdBinary);
}

const required = process.env.KRATOS_TEST_REQUIRE_ETCD === "1";

/**
 * The `skip` option of the etcd suites: `describe("...", { skip: etcdSkip() }, ...)`. A
 * reason (the one line the test report shows) when etcd is not installed; false when it is,
 * or when `KRATOS_TEST_REQUIRE_ETCD=1` asks that a missing etcd fail the run (then
 * {@link startEtcd} throws, saying so).
 */
export function etcdSkip(): string | false {
  return skipUnless(
    etcdAvailable(),
    required,
    "etcd is not installed (apt-get install etcd-server): etcd suites skipped",
  );
}

/** A running etcd of a test. */
export interface EtcdServer {
  /** The client URL, `http://127.0.0.1:<port>`. */
  readonly endpoint: string;
  readonly dataDir: string;
  /** SIGTERM, wait for the exit, remove the data dir. */
  stop(): Promise<void>;
  /** SIGKILL, keeping the data dir (an etcd crash); `restart` brings it back. */
  kill(): Promise<void>;
  /** Starts etcd again on the same ports and data dir, and waits until it is healthy. */
  restart(): Promise<void>;
}

/** Returns a port that was free a moment ago (bind port 0, read it, release it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => {
        resolve(port);
      });
    });
  });
}

/** Options of {@link startEtcd}. */
export interface StartEtcdOptions {
  /** The client port, when a test needs to know it before etcd runs. Default: a free one. */
  clientPort?: number;
}

/**
 * Starts a single-node etcd on free loopback ports with a fresh temp data dir, and resolves
 * once `GET /health` says it is healthy.
 */
export async function startEtcd(options: StartEtcdOptions = {}): Promise<EtcdServer> {
  if (!etcdAvailable()) {
    throw new Error(`KRATOS_TEST_REQUIRE_ETCD=1 but ${etcdBinary} is not installed`);
  }
  const dataDir = mkdtempSync(join(tmpdir(), "kratos-etcd-"));
  const clientPort = options.clientPort ?? (await freePort());
  const peerPort = await freePort();
  const endpoint = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const args = [
    "--name",
    "test",
    "--data-dir",
    dataDir,
    "--listen-client-urls",
    endpoint,
    "--advertise-client-urls",
    endpoint,
    "--listen-peer-urls",
    peer,
    "--initial-advertise-peer-urls",
    peer,
    "--initial-cluster",
    `test=${peer}`,
    "--logger",
    "zap",
    "--log-level",
    "error",
  ];
  const server = daemon({
    name: `etcd at ${endpoint}`,
    binary: etcdBinary,
    args,
    ready: () => healthy(endpoint),
  });
  await server.launch();
  return {
    endpoint,
    dataDir,
    stop: async () => {
      await server.halt("SIGTERM");
      rmSync(dataDir, { recursive: true, force: true });
    },
    kill: () => server.halt("SIGKILL"),
    restart: async () => {
      await server.halt("SIGKILL");
      await server.launch();
    },
  };
}

/** Whether etcd at `endpoint` answers `GET /health` with `{"health":"true"}`. */
async function healthy(endpoint: string): Promise<boolean> {
  try {
    const res = await fetch(`${endpoint}/health`, { signal: AbortSignal.timeout(1000) });
    const body = (await res.json()) as { health?: unknown };
    return res.ok && body.health === "true";
  } catch {
    // Not listening yet.
    return false;
  }
}

/** Polls `check` until it returns true, failing after `timeoutMs` with `what`. */
export async function eventually(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
