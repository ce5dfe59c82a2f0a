/**
 * Config from etcd (Kratos's `contrib/config/etcd`): one key, or every key under a prefix, each
 * holding a YAML or JSON document, watched for hot reload. A subpath of its own
 * (`kratos-ts/config/etcd`), so `kratos-ts/config` does not load the etcd client.
 *
 * @module
 */
import type { Etcd3, Watcher } from "etcd3";
import { createEtcdClient, defaultEtcdEndpoints } from "../internal/etcd-client.js";
import { withTimeout } from "../internal/with-timeout.js";
import { parseDocument } from "./parse.js";
import { ConfigError } from "./source.js";
import type { Source, SourceData } from "./source.js";

/** Options of {@link etcdSource}. */
export interface EtcdSourceOptions {
  /** The key, or the prefix with `prefix: true`. */
  key: string;
  /** Read every key under `key`, merged in key order (later keys win). Default false. */
  prefix?: boolean;
  /**
   * The format of the values. Default: from the key's extension (`.json` is JSON), else YAML
   * (which reads JSON documents too).
   */
  format?: "json" | "yaml";
  /** An etcd3 client to use; it stays the caller's. Default: a client of `endpoints`. */
  client?: Etcd3;
  /** etcd's client URLs when no `client` is given. Default `["http://127.0.0.1:2379"]`. */
  endpoints?: string[];
  /** The deadline of a read, in ms: a load never hangs on an unreachable etcd. Default 5 000. */
  callTimeout?: number;
  /** The cap of the delay before a broken watch reconnects, in ms. Default 5 000. */
  maxRetryDelay?: number;
}

/**
 * Creates a config {@link Source} reading `key` (or every key under it) from etcd. A missing key
 * is no data, not an error. A value that is not a YAML/JSON map of keys, or an etcd that does
 * not answer within `callTimeout`, fails the load with one line naming `etcd:<key>`: at start
 * that stops the app, on a reload the config keeps its last good values and logs why. The watch
 * reloads on every put or delete, and once more when the watch reconnects after an outage;
 * stopping it closes the client the source created.
 *
 * ```ts
 * import { createConfig, fileSource } from "kratos-ts/config";
 * import { etcdSource } from "kratos-ts/config/etcd";
 *
 * const config = createConfig({
 *   sources: [
 *     fileSource("./configs"),
 *     etcdSource({ endpoints: ["http://127.0.0.1:2379"], key: "/configs/helloworld.yaml" }),
 *   ],
 * });
 * ```
 */
export function etcdSource(options: EtcdSourceOptions): Source {
  return new EtcdSource(options);
}

class EtcdSource implements Source {
  readonly name: string;
  readonly #options: EtcdSourceOptions;
  readonly #timeout: number;
  #client: Etcd3 | undefined;
  // While a watch runs, loads share its client; otherwise a load closes the client it opened,
  // so a config that is not watched (or failed its first load) leaves nothing running.
  #watching = false;

  constructor(options: EtcdSourceOptions) {
    if (options.key === "") throw new ConfigError("etcd source: the key is empty");
    this.#options = options;
    this.#timeout = options.callTimeout ?? 5_000;
    this.name = `etcd ${options.prefix === true ? "prefix " : ""}${options.key}`;
  }

  async load(): Promise<SourceData[]> {
    const { key, prefix } = this.#options;
    let values: Record<string, string>;
    try {
      const client = this.#clientOf();
      values = await withTimeout(
        prefix === true
          ? client.getAll().prefix(key).strings()
          : client
              .get(key)
              .string()
              .then((v): Record<string, string> => (v === null ? {} : { [key]: v })),
        this.#timeout,
        `no answer within ${this.#timeout} ms`,
      );
    } catch (err) {
      this.#closeIdleClient();
      const endpoints = (this.#options.endpoints ?? defaultEtcdEndpoints).join(", ");
      throw new ConfigError(
        `cannot read from etcd (${endpoints}): ${err instanceof Error ? err.message : String(err)}`,
        { file: `etcd:${key}` },
      );
    }
    this.#closeIdleClient();
    return Object.keys(values)
      .sort()
      .map((k) => {
        const origin = `etcd:${k}`;
        return { origin, value: parseDocument(values[k] ?? "", this.#formatOf(k), origin) };
      });
  }

  watch(onChange: () => void): () => void {
    let stopped = false;
    let watcher: Watcher | undefined;
    this.#watching = true;
    const start = () => {
      const builder = this.#clientOf().watch();
      const pending =
        this.#options.prefix === true
          ? builder.prefix(this.#options.key)
          : builder.key(this.#options.key);
      pending.create().then(
        (created) => {
          if (stopped) {
            void created.cancel().catch(() => undefined);
            return;
          }
          watcher = created;
          created.on("put", onChange);
          created.on("delete", onChange);
          // After an outage the watch resumes on its own; reload too, in case the resumed
          // revision was compacted away and changes were missed.
          created.on("connected", onChange);
          // The watch starts after the load that preceded it: a change made in between would
          // otherwise go unseen until the next one.
          onChange();
          // Without an `error` listener the EventEmitter would throw and end the process.
          created.on("error", () => {
            if (watcher !== created) return;
            watcher = undefined;
            created.removeAllListeners();
            void created.cancel().catch(() => undefined);
            if (!stopped) start();
          });
        },
        () => {
          // etcd unreachable: the client retries the watch; try again from the top.
          if (!stopped) setTimeout(start, 500).unref();
        },
      );
    };
    start();
    return () => {
      stopped = true;
      this.#watching = false;
      const current = watcher;
      watcher = undefined;
      current?.removeAllListeners();
      const cancelled = current?.cancel().catch(() => undefined) ?? Promise.resolve();
      void cancelled.then(() => {
        this.#closeIdleClient();
      });
    };
  }

  #clientOf(): Etcd3 {
    if (this.#options.client !== undefined) return this.#options.client;
    this.#client ??= createEtcdClient(this.#options.endpoints, this.#options.maxRetryDelay);
    return this.#client;
  }

  #closeIdleClient(): void {
    if (this.#watching || this.#client === undefined) return;
    this.#client.close();
    this.#client = undefined;
  }

  #formatOf(key: string): "json" | "yaml" {
    return this.#options.format ?? (key.toLowerCase().endsWith(".json") ? "json" : "yaml");
  }
}
