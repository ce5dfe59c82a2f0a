import { readdirSync, readFileSync, statSync, watch } from "node:fs";
import type { FSWatcher } from "node:fs";
import { basename, dirname, extname, join } from "node:path";
import { ConfigError } from "./source.js";
import type { Source, SourceData } from "./source.js";
import { parseDocument } from "./parse.js";

const extensions = new Set([".yaml", ".yml", ".json"]);

/**
 * Whether a directory entry is a config file: `.yaml`, `.yml` or `.json`, and not hidden. Editor
 * temp files (`.x.swp`, `x~`, `.#x`, `4913`, `x.yaml.tmp`) never match, so saving a file in an
 * editor cannot break loading or hot reload.
 */
export function isConfigFile(name: string): boolean {
  return !name.startsWith(".") && extensions.has(extname(name).toLowerCase());
}

/**
 * Config from one file or every config file of a directory (not recursive, in name order, later
 * files win). The format follows the extension: YAML for `.yaml` / `.yml`, JSON for `.json`.
 */
export function fileSource(path: string): Source {
  return {
    name: `file ${path}`,
    load: () => Promise.resolve(loadPath(path)),
    watch: (onChange) => watchPath(path, onChange),
  };
}

function loadPath(path: string): SourceData[] {
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
  } catch (err) {
    throw new ConfigError(reason(err), { file: path });
  }
  if (!isDir) return [loadFile(path)];
  const names = readdirSync(path).filter(isConfigFile).sort();
  if (names.length === 0) {
    throw new ConfigError("no .yaml, .yml or .json file in this directory", { file: path });
  }
  return names.map((name) => loadFile(join(path, name)));
}

function loadFile(file: string): SourceData {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new ConfigError(reason(err), { file });
  }
  const format = extname(file).toLowerCase() === ".json" ? "json" : "yaml";
  return { origin: file, value: parseDocument(text, format, file) };
}

// Watching the directory (also for a single file) sees editors that save by writing a temp
// file and renaming it over the original, which replaces the watched inode.
function watchPath(path: string, onChange: () => void): () => void {
  let dir = path;
  let only: string | undefined;
  try {
    if (!statSync(path).isDirectory()) {
      dir = dirname(path);
      only = basename(path);
    }
  } catch {
    return () => undefined;
  }
  let watcher: FSWatcher;
  try {
    watcher = watch(dir, { persistent: false }, (_event, name) => {
      const file = typeof name === "string" ? name : null;
      // Kubernetes updates a mounted ConfigMap by swapping its `..data` symlink: that counts.
      const relevant =
        file === null ||
        (only === undefined ? isConfigFile(file) || file.startsWith("..") : file === only);
      if (!relevant) return;
      onChange();
    });
  } catch {
    return () => undefined;
  }
  watcher.on("error", () => undefined);
  return () => {
    watcher.close();
  };
}

function reason(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return "no such file or directory";
    if (code === "EACCES") return "permission denied";
    return err.message.split("\n")[0] ?? err.message;
  }
  return String(err);
}
