// `npm run generate`: every buf generate run of the repo, in one place, so that the test that
// checks "regeneration changes nothing" runs exactly what developers run.
import { execFileSync } from "node:child_process";
import { readdirSync, rmSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root (this file is compiled to dist/scripts/). */
export const repoRoot = fileURLToPath(new URL("../..", import.meta.url));

/** One `buf generate` invocation and the folders its output lands in. */
export interface GenerationRun {
  /** Working directory, relative to the repo root (where its buf.yaml is). */
  cwd: string;
  /** The buf.gen.yaml to use, relative to `cwd`. */
  template: string;
  /** Output folders, relative to `cwd`; generated files in them are replaced on each run. */
  outDirs: string[];
}

export const generationRuns: readonly GenerationRun[] = [
  { cwd: ".", template: "buf.gen.kit.yaml", outDirs: ["src/gen"] },
  { cwd: ".", template: "buf.gen.yaml", outDirs: ["api"] },
  { cwd: ".", template: "buf.gen.conf.yaml", outDirs: ["internal"] },
  { cwd: "test/fixtures/errors", template: "buf.gen.yaml", outDirs: ["gen"] },
  { cwd: "test/fixtures/http", template: "buf.gen.yaml", outDirs: ["gen"] },
  { cwd: "test/fixtures/json", template: "buf.gen.yaml", outDirs: ["gen"] },
];

/** File names that generators write (protos and hand-written code share the api/ folders). */
export const generatedFile = /(_(pb|errors|http)\.ts|^openapi\.yaml)$/;

/** Every generated file under `dir`, as paths relative to `dir`. */
export function listGenerated(dir: string): string[] {
  const found: string[] = [];
  const walk = (d: string): void => {
    let entries: string[];
    try {
      entries = readdirSync(d);
    } catch {
      return;
    }
    for (const name of entries) {
      const path = join(d, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (generatedFile.test(name)) found.push(relative(dir, path));
    }
  };
  walk(dir);
  return found.sort();
}

/**
 * Runs every generation. With `outBase`, output goes under that folder (mirroring the repo
 * layout) and nothing in the repo is touched; without it, stale generated files are removed first.
 */
export function generate(outBase?: string): void {
  for (const run of generationRuns) {
    const cwd = join(repoRoot, run.cwd);
    const args = ["generate", "--template", run.template];
    if (outBase !== undefined) {
      args.push("-o", join(outBase, run.cwd));
    } else {
      for (const dir of run.outDirs) {
        for (const file of listGenerated(join(cwd, dir))) rmSync(join(cwd, dir, file));
      }
    }
    execFileSync("buf", args, { cwd, stdio: "inherit" });
  }
}

if (import.meta.url === `file://${process.argv[1] ?? ""}`) generate();
