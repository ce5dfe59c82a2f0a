#!/usr/bin/env node
// The kratos-ts CLI. This release knows only --version and --help; `new`, `proto` and `run`
// arrive with the CLI issue. Unknown input fails with one line and a non-zero exit.
import { packageVersion } from "../../src/internal/package-version.js";

const usage = `Usage: kratos-ts [options]

Options:
  -v, --version  print the kratos-ts version
  -h, --help     print this help

The project commands (new, proto, run, upgrade) are not part of this release yet.
`;

function main(args: readonly string[]): number {
  const [first] = args;
  if (first === undefined || first === "-h" || first === "--help" || first === "help") {
    process.stdout.write(usage);
    return 0;
  }
  if (first === "-v" || first === "--version") {
    process.stdout.write(`${packageVersion()}\n`);
    return 0;
  }
  const what = first.startsWith("-") ? "option" : "command";
  process.stderr.write(`kratos-ts: unknown ${what} "${first}" (see kratos-ts --help)\n`);
  return 2;
}

process.exitCode = main(process.argv.slice(2));
