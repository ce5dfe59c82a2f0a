/** Where a command writes: stdout for results, stderr for warnings (tests capture both). */
export interface Output {
  stdout(text: string): void;
  /** One warning line, without its newline. */
  stderr(line: string): void;
}

/** The process's own streams. */
export const processOutput: Output = {
  stdout: (text) => {
    process.stdout.write(text);
  },
  stderr: (line) => {
    process.stderr.write(`kratos-ts: ${line}\n`);
  },
};
