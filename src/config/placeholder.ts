import { ConfigError } from "./source.js";
import { isMap, lookup, originOf } from "./tree.js";
import type { Tree } from "./tree.js";

const pattern = /\$\{([^}:]+)(?::([^}]*))?\}/g;
const whole = /^\$\{([^}:]+)(?::([^}]*))?\}$/;

/**
 * Resolves `${KEY}` and `${KEY:default}` in every string of the merged tree. KEY is a dotted
 * path of the config first, then an environment variable. A string that is exactly one
 * placeholder takes the type of what it refers to (`port: ${http.port}` stays a number).
 */
export function resolvePlaceholders(tree: Tree, env: Record<string, string | undefined>): void {
  const resolving = new Set<string>();

  const find = (key: string, path: string): { found: boolean; value: unknown } => {
    const fromConfig = lookup(tree.root, key);
    if (fromConfig !== undefined) {
      tree.referenced.add(key);
      if (resolving.has(key)) {
        throw new ConfigError(`placeholder \${${key}} refers to itself`, {
          file: originOf(tree, path),
          key: path,
        });
      }
      resolving.add(key);
      try {
        return { found: true, value: resolve(fromConfig, key) };
      } finally {
        resolving.delete(key);
      }
    }
    const fromEnv = env[key];
    return fromEnv === undefined
      ? { found: false, value: undefined }
      : { found: true, value: fromEnv };
  };

  const replace = (text: string, path: string): unknown => {
    const one = whole.exec(text);
    if (one !== null) {
      const [, key = "", fallback] = one;
      const { found, value } = find(key, path);
      if (found) return value;
      if (fallback !== undefined) return fallback;
      throw missing(key, path);
    }
    return text.replace(pattern, (_m, key: string, fallback: string | undefined) => {
      const { found, value } = find(key, path);
      if (found) return typeof value === "string" ? value : JSON.stringify(value);
      if (fallback !== undefined) return fallback;
      throw missing(key, path);
    });
  };

  const missing = (key: string, path: string) =>
    new ConfigError(`placeholder \${${key}} is not set (no such key or environment variable)`, {
      file: originOf(tree, path),
      key: path,
    });

  const resolve = (value: unknown, path: string): unknown => {
    if (typeof value === "string") return value.includes("${") ? replace(value, path) : value;
    if (Array.isArray(value)) return value.map((v, i) => resolve(v, `${path}.${i}`));
    if (isMap(value)) {
      for (const [k, v] of Object.entries(value))
        value[k] = resolve(v, path === "" ? k : `${path}.${k}`);
    }
    return value;
  };

  resolve(tree.root, "");
}
