// `kratos-ts upgrade`: update kratos-ts and the generator packages of the current project.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseCommand } from "../args.js";
import { CliError } from "../cli-error.js";
import { isLocalSpec, vendorTarball } from "../kit-origin.js";
import type { Output } from "../output.js";
import { projectRoot } from "../project.js";

export const upgradeHelp = `Usage: kratos-ts upgrade [options]

Updates kratos-ts and the code generators (@bufbuild/protobuf, @bufbuild/protoc-gen-es) of the
current project to their latest versions with npm. @bufbuild/buf stays pinned. A local kit (a
file: tarball or folder) stays as it is unless --kit names another; so does a kit the npm
registry does not have. Offline, it prints the command it would run.

Options:
      --kit <spec>  the kratos-ts to move to: a version or range, a tarball (copied into
                    vendor/) or a folder
  -n, --dry-run     print the command without running it
  -h, --help        print this help
`;

const spec = {
  name: "upgrade",
  options: { "dry-run": { type: "boolean", short: "n" }, kit: { type: "string" } },
  positionals: [0, 0],
} as const;

/** The generator packages `upgrade` moves to their latest versions. */
export const generators = ["@bufbuild/protobuf", "@bufbuild/protoc-gen-es"];

/** What the registry says of a package: its latest version, none, or no answer. */
type Lookup = { found: string } | { missing: true } | { unreachable: string };

/** Runs `kratos-ts upgrade`. */
export function runUpgrade(args: readonly string[], out: Output): number {
  const { values, help } = parseCommand(spec, args);
  if (help) {
    out.stdout(upgradeHelp);
    return 0;
  }
  const root = projectRoot();
  const dryRun = values["dry-run"] === true;
  const current = currentKit(root);
  const env = npmEnv(root);
  const packages = generators.map((p) => `${p}@latest`);
  const kitTarget = kitTargetSpec(root, values.kit, dryRun);
  if (kitTarget !== undefined) {
    packages.unshift(`kratos-ts@${kitTarget}`);
  } else if (current !== undefined && isLocalSpec(current)) {
    out.stdout(
      `kratos-ts stays ${current} (a local kit); kratos-ts upgrade --kit <version|tarball> replaces it\n`,
    );
  } else {
    const found = lookup("kratos-ts", root, env);
    if ("missing" in found) {
      out.stdout(
        `the npm registry has no package kratos-ts; kratos-ts stays ${current ?? "as it is"}\n`,
      );
    } else if ("unreachable" in found) {
      out.stdout(
        `the npm registry is not reachable (${found.unreachable}); run this when online, in ${root}:\n` +
          `  npm install ${["kratos-ts@latest", ...packages].join(" ")}\n`,
      );
      return 0;
    } else {
      packages.unshift("kratos-ts@latest");
    }
  }
  const install = ["install", ...packages];
  const shown = `npm ${install.join(" ")}`;
  if (dryRun) {
    out.stdout(`would run in ${root}: ${shown}\n`);
    return 0;
  }
  const r = spawnSync("npm", install, { cwd: root, stdio: "inherit", env });
  if (r.status !== 0) throw new CliError(`${shown} failed`);
  return 0;
}

/** The project's `kratos-ts` dependency as written in its package.json. */
function currentKit(root: string): string | undefined {
  const manifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
    dependencies?: Record<string, string>;
  };
  return manifest.dependencies?.["kratos-ts"];
}

/** The `--kit` target as npm takes it after `kratos-ts@`; a tarball is copied into vendor/. */
function kitTargetSpec(root: string, kit: string | undefined, dryRun: boolean): string | undefined {
  if (kit === undefined) return undefined;
  if (!existsSync(kit)) return kit;
  if (statSync(kit).isDirectory()) return `file:${resolve(kit)}`;
  return `file:${dryRun ? resolve(kit) : vendorTarball(root, resolve(kit))}`;
}

/**
 * npm runs with the project's node_modules/.bin first on PATH: npm's own script then runs on the
 * project's Node, and picks versions whose `engines` fit the Node the project runs on.
 */
function npmEnv(root: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PATH: `${join(root, "node_modules", ".bin")}:${process.env.PATH ?? ""}`,
  };
}

/** `npm view <name> version`: E404 is a missing package, anything else an unreachable registry. */
function lookup(name: string, root: string, env: NodeJS.ProcessEnv): Lookup {
  const r = spawnSync("npm", ["view", name, "version", "--json"], {
    cwd: root,
    encoding: "utf8",
    env,
    timeout: 15_000,
  });
  if (r.status === 0) return { found: r.stdout.trim() };
  const text = `${r.stdout}\n${r.stderr}`;
  if (/\bE404\b/.test(text)) return { missing: true };
  const last = r.error?.message ?? text.trim().split("\n").pop() ?? "";
  return { unreachable: last.replace(/^npm error\s*/, "") };
}
