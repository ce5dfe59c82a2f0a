import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import { discardLogger } from "../log/logger.js";
import type { Logger } from "../log/logger.js";
import { resolvePlaceholders } from "./placeholder.js";
import { scanValue } from "./scan.js";
import { ConfigError } from "./source.js";
import type { Source } from "./source.js";
import { deepEqual, emptyTree, lookup, mergeInto, originOf } from "./tree.js";
import type { Tree } from "./tree.js";
import { unknownKeys } from "./unknown-keys.js";
import type { UnknownKey } from "./unknown-keys.js";
import { createValue } from "./value.js";
import type { Value } from "./value.js";

/** Options of {@link createConfig}. */
export interface ConfigOptions {
  /** Read in order and merged: later sources win, maps deep-merge, lists replace. */
  sources: Source[];
  /** Where failed reloads are reported. Default: nowhere. */
  logger?: Logger;
  /** Milliseconds to wait after a source change before reloading (editors write twice). Default 100. */
  debounce?: number;
  /** Checks a new config before it is accepted, on load and on every reload; throw to reject it. */
  validate?: (config: Config) => void;
  /** Where placeholders look after the config itself. Default `process.env`. */
  env?: Record<string, string | undefined>;
  /** Watch the sources that can and reload on change. Default true. */
  watch?: boolean;
}

/** The config of a service: merged sources, typed reads, scanning into messages, watches. */
export interface Config {
  /**
   * Reads every source, merges, resolves placeholders and validates; then starts watching.
   * Throws a {@link ConfigError} (one line naming the file and key) on bad input.
   */
  load(): Promise<void>;
  /** The value at a dotted path (`server.http.addr`; list items by index: `endpoints.0`). */
  value(path: string): Value;
  /**
   * The config (or the subtree at `path`) as a message of `schema`, through proto JSON: keys are
   * field names (snake_case or JSON names), durations read as `1s` or Go's `1m30s`, numbers and
   * booleans may be strings (env). Unknown keys are ignored, as in Kratos; {@link
   * Config.unknownKeys} lists them.
   */
  scan<Desc extends DescMessage>(schema: Desc, path?: string): MessageShape<Desc>;
  /**
   * The keys that {@link Config.scan} with the same arguments ignores because no field of the
   * message takes them, typos such as `server.http.timout`, each with the file or source that
   * set it, for a warning like `configs/config.yaml: unknown key server.http.timout (ignored)`.
   * Keys from every source count, env variables included. Nested messages are checked, also in
   * lists and as map values; the keys of a map field are data and never unknown, nor is
   * anything inside Struct, Value, Any, Duration and the other well-known types, nor a key that
   * a `${...}` placeholder reads. Only the highest unknown key of a subtree is listed.
   */
  unknownKeys(schema: DescMessage, path?: string): UnknownKey[];
  /**
   * Calls `observer` after each reload that changed the value at `path` (added, changed or
   * removed). Returns a function that stops the observer.
   */
  watch(path: string, observer: (value: Value) => void): () => void;
  /**
   * Replaces the logger of failed reloads. A service builds its logger from its config, so it
   * can only hand that logger over after the first load.
   */
  useLogger(logger: Logger): void;
  /** Stops watching the sources. */
  close(): Promise<void>;
}

/** Creates a config over `sources`; nothing is read until {@link Config.load}. */
export function createConfig(options: ConfigOptions): Config {
  return new MergedConfig(options);
}

interface Observer {
  path: string;
  notify: (value: Value) => void;
}

class MergedConfig implements Config {
  readonly #options: ConfigOptions;
  #log: Logger;
  #tree: Tree | undefined;
  readonly #observers = new Set<Observer>();
  #unwatch: (() => void)[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #reloading: Promise<void> | undefined;
  #again = false;
  #closed = false;

  constructor(options: ConfigOptions) {
    this.#options = options;
    this.#log = options.logger ?? discardLogger;
  }

  async load(): Promise<void> {
    this.#accept(await this.#read());
    if (this.#options.watch === false || this.#unwatch.length > 0) return;
    for (const source of this.#options.sources) {
      const stop = source.watch?.(() => {
        this.#schedule();
      });
      if (stop !== undefined) this.#unwatch.push(stop);
    }
  }

  value(path: string): Value {
    const tree = this.#loaded();
    return createValue(path, lookup(tree.root, path), originOf(tree, path));
  }

  scan<Desc extends DescMessage>(schema: Desc, path = ""): MessageShape<Desc> {
    const tree = this.#loaded();
    return scanValue(schema, lookup(tree.root, path), path, tree);
  }

  unknownKeys(schema: DescMessage, path = ""): UnknownKey[] {
    const tree = this.#loaded();
    return unknownKeys(schema, lookup(tree.root, path), path, tree);
  }

  watch(path: string, observer: (value: Value) => void): () => void {
    const entry: Observer = { path, notify: observer };
    this.#observers.add(entry);
    return () => {
      this.#observers.delete(entry);
    };
  }

  useLogger(logger: Logger): void {
    this.#log = logger;
  }

  close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    for (const stop of this.#unwatch) stop();
    this.#unwatch = [];
    return this.#reloading ?? Promise.resolve();
  }

  #loaded(): Tree {
    if (this.#tree === undefined) throw new ConfigError("config not loaded: call load() first");
    return this.#tree;
  }

  /** Reads all sources into a fresh tree, so keys removed from a source really disappear. */
  async #read(): Promise<Tree> {
    const tree = emptyTree();
    for (const source of this.#options.sources) {
      for (const data of await source.load()) mergeInto(tree, data.value, data.origin);
    }
    resolvePlaceholders(tree, this.#options.env ?? process.env);
    return tree;
  }

  /** Makes `tree` current if it validates; restores the previous one otherwise. */
  #accept(tree: Tree): void {
    const previous = this.#tree;
    this.#tree = tree;
    try {
      this.#options.validate?.(this);
    } catch (err) {
      this.#tree = previous;
      throw err;
    }
  }

  #schedule(): void {
    if (this.#closed) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#reload();
    }, this.#options.debounce ?? 100);
    this.#timer.unref();
  }

  // One reload at a time; a change during a reload triggers one more afterwards.
  async #reload(): Promise<void> {
    if (this.#reloading !== undefined) {
      this.#again = true;
      return;
    }
    const run = async () => {
      do {
        this.#again = false;
        await this.#reloadOnce();
      } while (this.#changedMeanwhile());
    };
    this.#reloading = run().finally(() => {
      this.#reloading = undefined;
    });
    await this.#reloading;
  }

  #changedMeanwhile(): boolean {
    return this.#again && !this.#closed;
  }

  async #reloadOnce(): Promise<void> {
    const previous = this.#tree;
    try {
      this.#accept(await this.#read());
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.#log.warn({ err: message }, "config reload failed; keeping the last good config");
      return;
    }
    const current = this.#loaded();
    if (previous === undefined || this.#closed) return;
    for (const observer of [...this.#observers]) {
      const before = lookup(previous.root, observer.path);
      const after = lookup(current.root, observer.path);
      if (deepEqual(before, after)) continue;
      try {
        observer.notify(createValue(observer.path, after, originOf(current, observer.path)));
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        this.#log.error({ key: observer.path, err: message }, "config observer failed");
      }
    }
  }
}
