#!/usr/bin/env node
// The kratos-ts CLI: new, proto add|client|server, run, upgrade. Bad input is one line on stderr
// and a non-zero exit (2 for usage errors), and so is a failed file operation; a bug prints its
// stack.
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { packageVersion } from "../../src/internal/package-version.js";
import { CliError, usageError } from "./cli-error.js";
import { newHelp, runNew } from "./commands/new.js";
import { protoHelp, runProto } from "./commands/proto.js";
import { runHelp, runRun } from "./commands/run.js";
import { runUpgrade, upgradeHelp } from "./commands/upgrade.js";
import { processOutput } from "./output.js";
import type { Output } from "./output.js";

const usage = `Usage: kratos-ts <command> [options]

Commands:
  new <name|path>         create a service project from the layout
  proto add <file>        write a CRUD proto template
  proto client <path>     generate code from protos (buf generate)
  proto server <file>     write service stubs for a proto (-t <dir>)
  run [service]           build and run a service of the project
  upgrade                 update kratos-ts and the generators in the project

Options:
  -v, --version  print the kratos-ts version
  -h, --help     print this help

kratos-ts <command> --help describes a command.
`;

const helps: Record<string, string> = {
  new: newHelp,
  proto: protoHelp,
  run: runHelp,
  upgrade: upgradeHelp,
};

/** Runs the CLI with `args`; resolves with the exit code. */
export async function main(args: readonly string[], out: Output = processOutput): Promise<number> {
  const [first, ...rest] = args;
  try {
    switch (first) {
      case undefined:
      case "-h":
      case "--help":
        out.stdout(usage);
        return 0;
      case "help": {
        const topic = rest[0];
        out.stdout(topic === undefined ? usage : (helps[topic] ?? usage));
        return 0;
      }
      case "-v":
      case "--version":
        out.stdout(`${packageVersion()}\n`);
        return 0;
      case "new":
        return runNew(rest, out);
      case "proto":
        return runProto(rest, out);
      case "run":
        return await runRun(rest, out);
      case "upgrade":
        return runUpgrade(rest, out);
      default:
        throw first.startsWith("-")
          ? usageError(`unknown option "${first}"`, "")
          : usageError(`unknown command "${first}"`, "");
    }
  } catch (err) {
    if (err instanceof CliError) {
      out.stderr(err.message);
      return err.exitCode;
    }
    // A file the command could not read or write (a path through a file, no permission, a
    // folder that appeared meanwhile) is bad input too: node's message names the call and path.
    if (isSystemError(err)) {
      out.stderr(err.message);
      return 1;
    }
    throw err;
  }
}

function isSystemError(err: unknown): err is NodeJS.ErrnoException {
  return err instanceof Error && typeof (err as NodeJS.ErrnoException).syscall === "string";
}

/** Whether this module is the program node runs (directly, or through npm's bin symlink). */
function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return realpathSync(script) === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
}

if (isEntryPoint()) process.exitCode = await main(process.argv.slice(2));
