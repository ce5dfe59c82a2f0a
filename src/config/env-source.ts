import type { Source } from "./source.js";
import { isMap } from "./tree.js";

/** Options of {@link envSource}. */
export interface EnvSourceOptions {
  /** Only variables starting with it are read, and it is removed from the key. Default: none. */
  prefix?: string;
  /** The variables. Default `process.env`. */
  env?: Record<string, string | undefined>;
}

/**
 * Config from environment variables. The mapping reaches nested keys (Go Kratos's env source
 * cannot, #1657): the prefix is removed, `__` (two underscores) separates levels, and keys are
 * lowercased, while single underscores stay (they are part of proto field names). With the
 * prefix `HELLOWORLD_`:
 *
 * - `HELLOWORLD_SERVER__HTTP__ADDR=0.0.0.0:8080` sets `server.http.addr`;
 * - `HELLOWORLD_REGISTRY__ETCD__DIAL_TIMEOUT=3s` sets `registry.etcd.dial_timeout`.
 *
 * Values stay strings; `scan` converts them to the field types (numbers, booleans, durations,
 * comma-separated lists for repeated fields).
 */
export function envSource(options: EnvSourceOptions = {}): Source {
  const prefix = options.prefix ?? "";
  return {
    name: prefix === "" ? "env" : `env ${prefix}*`,
    load: () => {
      const env = options.env ?? process.env;
      const root: Record<string, unknown> = {};
      for (const name of Object.keys(env).sort()) {
        const value = env[name];
        if (value === undefined || !name.startsWith(prefix) || name === prefix) continue;
        const path = name.slice(prefix.length).toLowerCase().split("__");
        if (path.some((p) => p === "")) continue;
        set(root, path, value);
      }
      return Promise.resolve([{ origin: "env", value: root }]);
    },
  };
}

// A deeper key wins over a shorter one that is in its way (`A=1` and `A__B=2` give a.b = 2).
function set(root: Record<string, unknown>, path: string[], value: string): void {
  let node = root;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (isMap(next)) node = next;
    else node = node[key] = {};
  }
  const last = path[path.length - 1] ?? "";
  if (!isMap(node[last])) node[last] = value;
}
