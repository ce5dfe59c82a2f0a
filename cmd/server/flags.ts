// The service's command line, Go-flag style as in kratos-layout (`-conf ./configs`, `-version`);
// `--conf`, `-conf=...` and `--conf=...` work too.

/** What the command line asks for. */
export interface Flags {
  /** Config file or directory. Default `./configs`. */
  conf: string;
  version: boolean;
  help: boolean;
}

/** One line of usage, printed with -h and after a bad flag. */
export const usage = "usage: helloworld [-conf <file|dir>] [-version] [-h]";

/** Parses the arguments; throws an Error with one clear line on an unknown or incomplete flag. */
export function parseFlags(args: readonly string[]): Flags {
  const flags: Flags = { conf: "./configs", version: false, help: false };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? "";
    const match = /^--?([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (match === null) throw new Error(`unexpected argument "${arg}" (${usage})`);
    const name = match[1] ?? "";
    const inline = match[2];
    switch (name) {
      case "conf": {
        const value = inline ?? args[++i];
        if (value === undefined || value === "") throw new Error(`-conf needs a path (${usage})`);
        flags.conf = value;
        break;
      }
      case "version":
      case "v":
        flags.version = true;
        break;
      case "h":
      case "help":
        flags.help = true;
        break;
      default:
        throw new Error(`unknown flag "${arg}" (${usage})`);
    }
  }
  return flags;
}
