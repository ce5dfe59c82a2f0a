import { parse, YAMLParseError } from "yaml";
import { ConfigError } from "./source.js";
import { isMap } from "./tree.js";

/**
 * Parses one config document (a file, an etcd value) into a map of keys; an empty document is
 * an empty map. Throws a {@link ConfigError} naming `origin` and, when the parser says, the
 * line and column.
 */
export function parseDocument(
  text: string,
  format: "json" | "yaml",
  origin: string,
): Record<string, unknown> {
  const value = format === "json" ? parseJson(text, origin) : parseYaml(text, origin);
  if (value === null || value === undefined) return {};
  if (!isMap(value)) throw new ConfigError("the top level must be a map of keys", { file: origin });
  return value;
}

function parseYaml(text: string, file: string): unknown {
  try {
    return parse(text, { prettyErrors: true });
  } catch (err) {
    if (err instanceof YAMLParseError) {
      const at = err.linePos?.[0];
      const where = at === undefined ? "" : ` at line ${at.line}, column ${at.col}`;
      const what = err.message.split("\n")[0]?.replace(/ at line \d+, column \d+:?$/, "") ?? "";
      throw new ConfigError(`invalid YAML${where}: ${what}`, { file });
    }
    throw new ConfigError(`invalid YAML: ${reason(err)}`, { file });
  }
}

function parseJson(text: string, file: string): unknown {
  if (text.trim() === "") return null;
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    const message = reason(err);
    const position = /position (\d+)/.exec(message);
    if (position !== null && !message.includes("line")) {
      const before = text.slice(0, Number(position[1]));
      const line = before.split("\n").length;
      return fail(`invalid JSON at line ${line}: ${message}`, file);
    }
    return fail(`invalid JSON: ${message}`, file);
  }
}

function fail(message: string, file: string): never {
  throw new ConfigError(message, { file });
}

function reason(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
