import { execFile, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root (tests are compiled to dist/test/). */
export const repoRoot = fileURLToPath(new URL("../../..", import.meta.url));

/** Absolute path of a binary installed in the repo's node_modules/.bin. */
export function bin(name: string): string {
  return join(repoRoot, "node_modules", ".bin", name);
}

/** The outcome of a finished command. */
export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion (no shell) and returns its exit status and output. */
export function run(command: string, args: readonly string[], cwd = repoRoot): RunResult {
  const r = spawnSync(command, args, {
    cwd,
    encoding: "utf8",
    // Child node processes must be the repo's Node 24, as under `npm run`.
    env: {
      ...process.env,
      PATH: `${join(repoRoot, "node_modules", ".bin")}:${process.env.PATH ?? ""}`,
    },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * Runs a command without blocking the event loop: needed when the command talks to a server
 * living in this test process (spawnSync would deadlock it).
 */
export function runAsync(
  command: string,
  args: readonly string[],
  cwd = repoRoot,
): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      {
        cwd,
        encoding: "utf8",
        env: {
          ...process.env,
          PATH: `${join(repoRoot, "node_modules", ".bin")}:${process.env.PATH ?? ""}`,
        },
      },
      (err, stdout, stderr) => {
        const status = err === null ? 0 : typeof err.code === "number" ? err.code : 1;
        resolve({ status, stdout, stderr });
      },
    );
  });
}

/** A fresh temporary folder, removed by the returned cleanup function. */
export function tempDir(prefix = "kratos-ts-test-"): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return {
    path,
    remove: () => {
      rmSync(path, { recursive: true, force: true });
    },
  };
}
