import { parseArgs } from "node:util";
import type { ParseArgsConfig } from "node:util";
import { usageError } from "./cli-error.js";

type Options = NonNullable<ParseArgsConfig["options"]>;

/** What a command takes: its name (for messages), options and how many positionals. */
export interface CommandSpec<O extends Options> {
  /** `new`, `proto add`... */
  name: string;
  options: O;
  /** Positional arguments accepted: [min, max]. */
  positionals: readonly [number, number];
}

/**
 * Parses a command's arguments strictly (node:util parseArgs): an unknown option, a missing
 * option value or a wrong number of arguments is one usage line, exit code 2. `--` ends the
 * options; what follows is returned as `rest` (for `run`).
 */
export function parseCommand<O extends Options>(spec: CommandSpec<O>, args: readonly string[]) {
  const dashes = args.indexOf("--");
  const own = dashes < 0 ? args : args.slice(0, dashes);
  const rest = dashes < 0 ? [] : args.slice(dashes + 1);
  const options = { ...spec.options, help: { type: "boolean", short: "h" } } as const;
  let parsed;
  try {
    parsed = parseArgs({ args: [...own], options, allowPositionals: true, strict: true });
  } catch (err) {
    throw usageError(parseError(err), spec.name);
  }
  const { positionals } = parsed;
  const help = (parsed.values as { help?: boolean }).help === true;
  if (!help) {
    const [min, max] = spec.positionals;
    if (positionals.length < min) throw usageError("missing argument", spec.name);
    if (positionals.length > max) {
      throw usageError(`unexpected argument "${positionals[max] ?? ""}"`, spec.name);
    }
  }
  return { values: parsed.values, positionals, rest, help };
}

/** node:util's parse errors, said in one short line. */
function parseError(err: unknown): string {
  const code = (err as { code?: unknown }).code;
  const message = err instanceof Error ? err.message : String(err);
  const option = /'(-[^']*)'/.exec(message)?.[1] ?? "";
  switch (code) {
    case "ERR_PARSE_ARGS_UNKNOWN_OPTION":
      return `unknown option "${option}"`;
    case "ERR_PARSE_ARGS_INVALID_OPTION_VALUE":
      return `option "${option.split(/[ ,]/)[0] ?? option}" needs a value`;
    default:
      return message.split("\n")[0] ?? message;
  }
}
