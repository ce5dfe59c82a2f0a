// `kratos-ts upgrade`: update kratos-ts and the generator packages of the current project.
import { spawnSync } from "node:child_process";
import { parseCommand } from "../args.js";
import { CliError } from "../cli-error.js";
import type { Output } from "../output.js";
import { projectRoot } from "../project.js";

export const upgradeHelp = `Usage: kratos-ts upgrade [options]

Updates kratos-ts and the code generators (@bufbuild/protobuf, @bufbuild/protoc-gen-es) of the
current project to their latest versions with npm. @bufbuild/buf stays pinned. Offline, it prints
the command it would run.

Options:
  -n, --dry-run  print the command without running it
  -h, --help     print this help
`;

const spec = {
  name: "upgrade",
  options: { "dry-run": { type: "boolean", short: "n" } },
  positionals: [0, 0],
} as const;

/** The packages `upgrade` moves to their latest versions. */
export const upgraded = ["kratos-ts", "@bufbuild/protobuf", "@bufbuild/protoc-gen-es"];

/** Runs `kratos-ts upgrade`. */
export function runUpgrade(args: readonly string[], out: Output): number {
  const { values, help } = parseCommand(spec, args);
  if (help) {
    out.stdout(upgradeHelp);
    return 0;
  }
  const root = projectRoot();
  const install = ["install", ...upgraded.map((p) => `${p}@latest`)];
  const shown = `npm ${install.join(" ")}`;
  if (values["dry-run"] === true) {
    out.stdout(`would run in ${root}: ${shown}\n`);
    return 0;
  }
  const ping = spawnSync("npm", ["ping"], { cwd: root, encoding: "utf8", timeout: 15_000 });
  if (ping.status !== 0) {
    out.stdout(
      `the npm registry is not reachable; run this when online, in ${root}:\n  ${shown}\n`,
    );
    return 0;
  }
  const r = spawnSync("npm", install, { cwd: root, stdio: "inherit" });
  if (r.status !== 0) throw new CliError(`${shown} failed`);
  return 0;
}
