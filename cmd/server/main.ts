// The helloworld service (`npm start`): reads -conf, builds the logger, wires the layers and
// runs the app until SIGINT / SIGTERM.
import "reflect-metadata";
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { createApp } from "kratos-ts/app";
import type { Config } from "kratos-ts/config";
import { defaultPolicies, followGovernance } from "kratos-ts/governance";
import type { FollowedGovernance } from "kratos-ts/governance";
import { createLogger } from "kratos-ts/log";
import type { Logger } from "kratos-ts/log";
import type { EtcdRegistry } from "kratos-ts/registry";
import { startTelemetry } from "kratos-ts/telemetry";
import { grpcBuiltinOperations } from "kratos-ts/transport/grpc";
import { BootstrapSchema } from "../../internal/conf/conf_pb.js";
import type { Data_Redis, Registry } from "../../internal/conf/conf_pb.js";
import { durationMs } from "../../internal/server/conf.js";
import { services } from "../../internal/service/services.js";
import { followLogLevel, loadConfig, logLevel, warnUnknownKeys, withConfigFile } from "./config.js";
import { followSettings } from "./live.js";
import type { FollowedSettings } from "./live.js";
import { parseFlags, usage } from "./flags.js";
import { wire } from "./wire.js";

/** The service name: the app name, the registry name, and the prefix of env overrides. */
const name = "helloworld";
/** Env variables `HELLOWORLD_<KEY>__<KEY>` override config keys (see configs/README.md). */
const envPrefix = "HELLOWORLD_";

async function main(args: readonly string[]): Promise<void> {
  const flags = parseFlags(args);
  const built = projectVersion();
  if (flags.help || flags.version) {
    process.stdout.write(flags.help ? `${usage}\n` : `${name} ${built}\n`);
    return;
  }
  const config = await loadConfig(flags.conf, envPrefix);
  const bc = config.scan(BootstrapSchema);
  // The version this instance runs and registers as: clients' route rules pick instances by it
  // (a canary deployed with `registry.version: v2`), so logs and traces name the same one.
  const version = bc.registry?.version || built;
  const level = logLevel(config);
  if (level === "debug" || level === "trace") showStacks = true;
  const id = `${hostname()}-${process.pid}`;
  const logger = createLogger({ level, service: { id, name, version } });
  const configLog = logger.child({ module: "config" });
  config.useLogger(configLog);
  warnUnknownKeys(config, configLog);
  followLogLevel(config, logger);
  let redis: RedisHandle | undefined;
  try {
    redis = await redisClient(bc.data?.redis, logger);
  } catch (err) {
    await config.close();
    throw withConfigFile(err, config);
  }
  const governance = await followRules(config, logger, redis);
  const live = await followLive(config, logger, async () => {
    await governance.close();
    await redis?.close();
  });
  // Before the servers exist: the middleware finds the SDK's providers on first use anyway, but
  // the context manager must be in place before the first request.
  const telemetry = startTelemetry({
    serviceName: name,
    serviceVersion: version,
    serviceInstanceId: id,
    otlpEndpoint: bc.telemetry?.otlpEndpoint,
  });
  let wired: ReturnType<typeof wire>;
  try {
    wired = wire(bc, logger, telemetry, governance, live, {
      client: redis?.client,
      timeout: redis?.timeout,
    });
  } catch (err) {
    await telemetry.shutdown();
    live.close();
    await governance.close();
    await redis?.close();
    await config.close();
    throw withConfigFile(err, config);
  }
  const registry = await etcdRegistry(bc.registry, logger);
  const cleanup = async () => {
    await wired.cleanup();
    live.close();
    await governance.close();
    // After the store: its rate limits use the client until they are closed.
    await redis?.close();
    await registry?.close();
    await telemetry.shutdown();
  };
  const app = createApp({
    id,
    name,
    version,
    metadata: { ...bc.registry?.metadata },
    logger,
    servers: wired.servers,
    registrar: registry,
    afterStop: [cleanup, () => config.close()],
  });
  try {
    await app.run();
  } catch (err) {
    await cleanup();
    await config.close();
    throw withConfigFile(err, config);
  }
}

/**
 * The rules of `governance`, followed live from every config source. A bad rule set fails the
 * start with one line naming the file (or etcd key) and the rule; later, a bad change is
 * refused with one warning and the last good rules stay. The rules are checked against the
 * operations the app serves.
 */
async function followRules(
  config: Config,
  logger: Logger,
  redis: RedisHandle | undefined,
): Promise<FollowedGovernance> {
  try {
    return followGovernance(config, {
      logger: logger.child({ module: "governance" }),
      operations: [...services.flatMap((s) => s.operations), ...grpcBuiltinOperations],
      policies: defaultPolicies({ redis: redis?.client, redisTimeout: redis?.timeout }),
    });
  } catch (err) {
    await redis?.close();
    await config.close();
    throw err;
  }
}

/**
 * `auth` and `server.bbr.enabled`, followed live; a bad value fails the start with one line
 * naming the file and key (after `release` frees what the start already holds).
 */
async function followLive(
  config: Config,
  logger: Logger,
  release: () => Promise<void>,
): Promise<FollowedSettings> {
  try {
    return followSettings(config, logger);
  } catch (err) {
    await release();
    await config.close();
    throw err;
  }
}

/**
 * The Redis client of `data.redis`, for the rate limits that share their counts there and the
 * data layer's cache.
 */
interface RedisHandle {
  readonly client: NonNullable<Parameters<typeof defaultPolicies>[0]>["redis"];
  /** `read_timeout` in ms, when set: how long a limiter waits before its local fallback. */
  readonly timeout: number | undefined;
  close(): Promise<void>;
}

/**
 * A Redis client when `data.redis.addr` is set; none otherwise, and then ioredis is not even
 * loaded, so `npm start` needs no Redis. It connects in the background: until it is up, and
 * whenever Redis is down, rate limits answer from their local fallback and reads go to the
 * database. A malformed address fails the start with one line naming `data.redis.addr`.
 */
async function redisClient(
  conf: Data_Redis | undefined,
  logger: Logger,
): Promise<RedisHandle | undefined> {
  if (conf === undefined || conf.addr === "") return undefined;
  const { createRedisClient } = await import("kratos-ts/ratelimit/redis");
  const timeout = conf.readTimeout === undefined ? undefined : durationMs(conf.readTimeout);
  let client: RedisHandle["client"];
  try {
    client = createRedisClient({
      url: conf.addr.includes("://") ? conf.addr : `redis://${conf.addr}`,
      connectTimeout: conf.dialTimeout === undefined ? undefined : durationMs(conf.dialTimeout),
      commandTimeout: timeout,
      logger: logger.child({ module: "redis" }),
    });
  } catch (err) {
    throw new Error(`data.redis.addr: ${err instanceof Error ? err.message : String(err)}`, {
      cause: err,
    });
  }
  return {
    client,
    timeout,
    async close() {
      // quit waits for the replies in flight; a client that never connected has none to wait for.
      if (client.status === "ready") {
        await client.quit().catch(() => {
          client.disconnect();
        });
      } else client.disconnect();
    },
  };
}

/**
 * The etcd registry of `registry.etcd`, when it names endpoints; none otherwise. Its module is
 * loaded only then: the etcd client (etcd3, grpc-js, protobufjs) would slow every cold start.
 */
async function etcdRegistry(
  conf: Registry | undefined,
  logger: Logger,
): Promise<EtcdRegistry | undefined> {
  const etcd = conf?.etcd;
  if (etcd === undefined || etcd.endpoints.length === 0) return undefined;
  const { createEtcdRegistry } = await import("kratos-ts/registry");
  return createEtcdRegistry({
    endpoints: etcd.endpoints,
    namespace: etcd.namespace || undefined,
    ttl: etcd.ttl === undefined ? undefined : Math.max(1, Number(etcd.ttl.seconds)),
    callTimeout: etcd.dialTimeout === undefined ? undefined : durationMs(etcd.dialTimeout),
    logger: logger.child({ module: "registry/etcd" }),
  });
}

/** The version of the project this service belongs to: the nearest package.json's. */
function projectVersion(): string {
  for (let up = new URL("./", import.meta.url); ; up = new URL("../", up)) {
    try {
      const json = JSON.parse(readFileSync(new URL("package.json", up), "utf8")) as {
        version?: string;
      };
      return json.version ?? "";
    } catch {
      if (up.pathname === "/") return "";
    }
  }
}

// A failure to start is one line on stderr naming the file, key or address, and exit code 1;
// the stack only with debug logging, where it helps rather than hides the line.
let showStacks = process.env[`${envPrefix}LOG__LEVEL`] === "debug";

main(process.argv.slice(2)).catch((err: unknown) => {
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`${name}: ${message}\n`);
  if (showStacks && err instanceof Error && err.stack !== undefined) {
    process.stderr.write(`${err.stack}\n`);
  }
  process.exitCode = 1;
});
