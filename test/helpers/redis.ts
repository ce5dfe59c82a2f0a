import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { daemon, firstLineIs, skipUnless } from "./daemon.js";
import { freePort } from "./etcd.js";

/** The Debian `redis-server` binary the suites run. */
export const redisBinary = process.env.KRATOS_TEST_REDIS_BIN ?? "/usr/bin/redis-server";

/** Whether the redis-server binary is installed. */
export function redisAvailable(): boolean {
  return existsSync(redisBinary);
}

const required = process.env.KRATOS_TEST_REQUIRE_REDIS === "1";

/**
 * The `skip` option of the Redis suites: `describe("...", { skip: redisSkip() }, ...)`. A
 * reason when redis-server is not installed; false when it is, or when
 * `KRATOS_TEST_REQUIRE_REDIS=1` asks that a missing Redis fail the run (then
 * {@link startRedis} throws, saying so).
 */
export function redisSkip(): string | false {
  return skipUnless(
    redisAvailable(),
    required,
    "redis-server is not installed (apt-get install redis-server): Redis suites skipped",
  );
}

/** A running Redis of a test. */
export interface RedisServer {
  /** `redis://127.0.0.1:<port>`. */
  readonly url: string;
  readonly port: number;
  /** Whether the server process is running now. */
  running(): boolean;
  /** SIGTERM, wait for the exit; `restart` brings it back on the same port. */
  stop(): Promise<void>;
  /** Starts Redis again on the same port (empty: nothing is saved) and waits for PING. */
  restart(): Promise<void>;
  /** Stops it and removes its directory. */
  close(): Promise<void>;
}

/**
 * Starts `redis-server` on a free loopback port with a fresh temp directory and no persistence,
 * and resolves once it answers PING.
 */
export async function startRedis(): Promise<RedisServer> {
  if (!redisAvailable()) {
    throw new Error(`KRATOS_TEST_REQUIRE_REDIS=1 but ${redisBinary} is not installed`);
  }
  const dir = mkdtempSync(join(tmpdir(), "kratos-redis-"));
  const port = await freePort();
  const args = [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--save",
    "",
    "--appendonly",
    "no",
    "--dir",
    dir,
    "--daemonize",
    "no",
    "--loglevel",
    "warning",
  ];
  const server = daemon({
    name: `redis-server on port ${port}`,
    binary: redisBinary,
    args,
    ready: () => ping(port),
  });
  await server.launch();
  const stop = () => server.halt("SIGTERM");
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    running: () => server.running(),
    stop,
    restart: async () => {
      await stop();
      await server.launch();
    },
    close: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Sends PING in the inline protocol over a plain socket: true when `+PONG` comes back. */
export function ping(port: number): Promise<boolean> {
  return firstLineIs(port, "+PONG", "PING\r\n");
}

/**
 * `redis://` URL of a loopback port where nothing listens (a Redis that is not there at all):
 * a free port, bound by nothing once this resolves.
 */
export async function absentRedisUrl(): Promise<string> {
  return `redis://127.0.0.1:${await freePort()}`;
}

/**
 * Makes the Redis on `port` hang for `ms`: CLIENT PAUSE holds every command of every client.
 * Resolves once the pause is in place (Redis answered +OK), over a plain socket of its own.
 */
export function pauseRedis(port: number, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: "127.0.0.1" });
    let reply = "";
    socket.on("error", reject);
    socket.on("connect", () => {
      socket.write(`CLIENT PAUSE ${ms}\r\n`);
    });
    socket.setEncoding("utf8").on("data", (chunk: string) => {
      reply += chunk;
      if (!reply.includes("\r\n")) return;
      socket.destroy();
      if (reply.startsWith("+OK")) resolve();
      else reject(new Error(`CLIENT PAUSE: ${reply.trim()}`));
    });
  });
}
