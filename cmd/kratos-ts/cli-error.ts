/**
 * An error the CLI reports as one line on stderr, with a non-zero exit code and no stack: bad
 * input, a refused overwrite, a failed tool. Anything else that escapes a command is a bug and is
 * printed with its stack.
 */
export class CliError extends Error {
  constructor(
    message: string,
    /** The process exit code: 2 for usage errors, 1 for everything else. */
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = "CliError";
  }
}

/** A usage error (unknown command, flag or argument): exit code 2. `command` "" is the CLI. */
export function usageError(message: string, command: string): CliError {
  const help = command === "" ? "kratos-ts --help" : `kratos-ts ${command} --help`;
  return new CliError(`${message} (see ${help})`, 2);
}
