/** What one source read: a tree of plain values, and where it came from. */
export interface SourceData {
  /** For error messages: a file path, `env`, `etcd:/key`. */
  origin: string;
  /** The parsed tree: plain objects, arrays and scalars. */
  value: Record<string, unknown>;
}

/**
 * A place config comes from. Sources are read in order and merged (later wins); implement this
 * for your own store (the etcd source does).
 */
export interface Source {
  /** For log lines. */
  readonly name: string;
  /** Reads everything now; throws a {@link ConfigError} naming the file or key on bad input. */
  load(): Promise<SourceData[]>;
  /**
   * Calls `onChange` whenever the data may have changed (the config then reloads every source,
   * debounced). Must not keep the process alive. Returns a function that stops watching.
   */
  watch?(onChange: () => void): () => void;
}

/** A config problem, as one line naming the file (or source) and the key. */
export class ConfigError extends Error {
  override name = "ConfigError";
  /** The file or source the bad value came from, when known. */
  readonly file: string | undefined;
  /** The dotted key, when the problem is one value. */
  readonly key: string | undefined;

  constructor(
    message: string,
    where: { file?: string | undefined; key?: string | undefined } = {},
  ) {
    const prefix = [where.file, where.key].filter((p) => p !== undefined && p !== "").join(": ");
    super(prefix === "" ? message : `${prefix}: ${message}`);
    this.file = where.file;
    this.key = where.key;
  }
}
