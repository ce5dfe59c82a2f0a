// The service's own checks of its config, each naming the file (or source) and the key, as the
// kit's config errors do: the log level (at start and live), keys Bootstrap has no field for, and
// the layers' errors about a key (they see the scanned Bootstrap, not where a value came from).
import { ConfigError, createConfig, envSource, fileSource } from "kratos-ts/config";
import type { Config, Source, Value } from "kratos-ts/config";
import { isLogLevel } from "kratos-ts/log";
import type { LevelLogger, Logger, LogLevel } from "kratos-ts/log";
import { BootstrapSchema } from "../../internal/conf/conf_pb.js";

const levelKey = "log.level";

/** The level of `log.level` (default info); throws a {@link ConfigError} on an unknown one. */
export function logLevel(config: Config): LogLevel {
  return levelOf(config.value(levelKey));
}

/**
 * Applies later changes of `log.level` to `logger`. A bad value keeps the current level and logs
 * one warning naming the file and key: a typo in a live edit must not stop the service.
 */
export function followLogLevel(config: Config, logger: LevelLogger): void {
  config.watch(levelKey, (value) => {
    let next: LogLevel;
    try {
      next = levelOf(value);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      logger.warn(
        { file: value.origin, key: levelKey, value: value.raw() },
        `${message}; keeping ${logger.level}`,
      );
      return;
    }
    logger.level = next;
    logger.info({ key: levelKey, value: next }, "config changed");
  });
}

// Unset, null and "" mean the default, as scanning into Bootstrap reads them.
function levelOf(value: Value): LogLevel {
  const raw = value.raw();
  if (raw === undefined || raw === null || raw === "") return "info";
  // A list or map throws a ConfigError naming the file and key.
  const level = value.string();
  if (!isLogLevel(level)) {
    throw new ConfigError(
      `unknown level "${level}" (trace, debug, info, warn, error, fatal, silent)`,
      { file: value.origin, key: levelKey },
    );
  }
  return level;
}

/**
 * One warning per config key that Bootstrap has no field for (a typo such as
 * `server.http.timout` would otherwise leave the default in place without a word); the service
 * starts anyway, as Kratos ignores unknown keys.
 */
export function warnUnknownKeys(config: Config, log: Logger): void {
  for (const { key, file } of config.unknownKeys(BootstrapSchema)) {
    const where = file === undefined ? "" : `${file}: `;
    log.warn({ file, key }, `${where}unknown key ${key} (ignored)`);
  }
}

// `data.database.source: cannot open ...`: a dotted key of the config at the start of a message.
const keyPrefix = /^([a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+): /;

/**
 * `err` with the file that set the key it starts with in front (`configs/config.yaml:
 * data.database.source: cannot open ...`); other errors, and the kit's config errors (which
 * name their file already), come back as they are.
 */
export function withConfigFile(err: unknown, config: Config): unknown {
  if (!(err instanceof Error) || err instanceof ConfigError) return err;
  const key = keyPrefix.exec(err.message)?.[1];
  if (key === undefined) return err;
  const file = config.value(key).origin;
  if (file === undefined) return err;
  return new Error(`${file}: ${err.message}`, { cause: err });
}

/**
 * The files of `-conf` and the env overrides (`<envPrefix><KEY>__<KEY>`); with
 * `config_source.etcd` set there, the same again with the etcd key merged between them (files <
 * etcd < env), watched like the files. The service and its client (`npm run client`) both load
 * their config so, and so follow the same governance rules.
 */
export async function loadConfig(conf: string, envPrefix: string): Promise<Config> {
  const local = (): [Source, Source] => [fileSource(conf), envSource({ prefix: envPrefix })];
  const config = createConfig({ sources: local() });
  await config.load();
  const etcd = config.scan(BootstrapSchema).configSource?.etcd;
  if (etcd === undefined || etcd.endpoints.length === 0 || etcd.key === "") return config;
  await config.close();
  // Loaded only when used: the etcd client (etcd3, grpc-js, protobufjs) is a tenth of a second
  // of a cold start that needs none of it.
  const { etcdSource } = await import("kratos-ts/config/etcd");
  const [files, env] = local();
  const merged = createConfig({
    sources: [
      files,
      etcdSource({ endpoints: etcd.endpoints, key: etcd.key, prefix: etcd.prefix }),
      env,
    ],
  });
  try {
    await merged.load();
  } catch (err) {
    await merged.close();
    throw err;
  }
  return merged;
}
