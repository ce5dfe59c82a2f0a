// Where `kratos-ts new` takes its layout from: the installed package (offline), a local folder,
// or a git repository cloned into a cache under the user's home and refreshed on reuse.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, renameSync, rmSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { installedPackage } from "../../src/internal/package-version.js";
import type { InstalledPackage } from "../../src/internal/package-version.js";
import { CliError } from "./cli-error.js";

/** Options of {@link layoutSource}. */
export interface LayoutSourceOptions {
  /** A git URL or a local path (`-r`); undefined: the layout bundled in the package. */
  repo?: string | undefined;
  /** The branch to clone (`-b`); default the repository's default branch. */
  branch?: string | undefined;
  /** Writes a warning line (a refresh that failed, the cached copy used instead). */
  warn: (line: string) => void;
}

/** The folder holding the layout to copy. */
export function layoutSource(options: LayoutSourceOptions): string {
  const { repo, branch } = options;
  if (repo === undefined) {
    return kitPackage().root;
  }
  // A local folder is used as it is, unless a branch of it is asked for.
  if (branch === undefined && existsSync(repo) && statSync(repo).isDirectory()) return repo;
  const cache = join(homedir(), ".kratos-ts", "layouts", cacheName(repo, branch));
  if (existsSync(join(cache, ".git"))) {
    const fetched = git(["-C", cache, "fetch", "--depth", "1", "origin", branch ?? "HEAD"]);
    const reset = fetched.ok ? git(["-C", cache, "reset", "--hard", "FETCH_HEAD"]) : fetched;
    if (!reset.ok) options.warn(`cannot refresh ${repo} (${reset.error}); using the cached copy`);
    return cache;
  }
  mkdirSync(join(cache, ".."), { recursive: true });
  const partial = `${cache}.partial-${process.pid}`;
  rmSync(partial, { recursive: true, force: true });
  const args = ["clone", "--depth", "1", ...(branch === undefined ? [] : ["--branch", branch])];
  const cloned = git([...args, repo, partial]);
  if (!cloned.ok) {
    rmSync(partial, { recursive: true, force: true });
    throw new CliError(`cannot clone ${repo}: ${cloned.error}`);
  }
  renameSync(partial, cache);
  return cache;
}

/** A folder name for a repository and branch: `github.com-x-layout@main`. */
export function cacheName(repo: string, branch: string | undefined): string {
  const base = repo
    .replace(/^[a-z+]+:\/\//, "")
    .replace(/\.git$/, "")
    .replace(/[^A-Za-z0-9._-]+/g, "-")
    .replace(/^-+|-+$/g, "");
  return branch === undefined ? base : `${base}@${branch.replace(/[^A-Za-z0-9._-]+/g, "-")}`;
}

function git(args: string[]): { ok: true } | { ok: false; error: string } {
  const r = spawnSync("git", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  if (r.error !== undefined) {
    const code = (r.error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new CliError("git is not installed (needed by -r)");
    return { ok: false, error: r.error.message };
  }
  if (r.status === 0) return { ok: true };
  const lines = r.stderr.trim().split("\n");
  return { ok: false, error: lines[lines.length - 1] ?? `git exited with ${String(r.status)}` };
}

/** The kratos-ts package this CLI runs from: its bundled layout and the versions it builds with. */
export function kitPackage(): InstalledPackage {
  const kit = installedPackage();
  if (kit === undefined) throw new CliError("cannot find the installed kratos-ts package");
  return kit;
}
