// `kratos-ts new <name|path>`: a new service project from the layout.
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  renameSync,
  rmdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { basename, dirname, join, relative, resolve } from "node:path";
import { parseCommand } from "../args.js";
import { CliError } from "../cli-error.js";
import { copyTree } from "../fs-copy.js";
import {
  bundleScript,
  checkServiceName,
  envPrefix,
  layoutExtras,
  layoutParts,
  projectBufGen,
  projectManifest,
  renameText,
  skipped,
  targetPath,
} from "../layout.js";
import { kitDependency } from "../kit-origin.js";
import { kitPackage, layoutSource } from "../layout-source.js";
import type { Output } from "../output.js";

export const newHelp = `Usage: kratos-ts new <name|path> [options]

Creates a service project from the kratos-ts layout: api/, cmd/<name>/, internal/, configs/,
third_party/, buf files, tests and a package.json that depends on kratos-ts. The last segment of
the path is the service name (lower-case letters, digits, dashes).

Options:
  -r, --repo <url|path>  take the layout from a git repository (cached under ~/.kratos-ts) or a
                         local folder, instead of the layout bundled with kratos-ts
  -b, --branch <name>    the branch of --repo
      --kit <spec>       the kratos-ts dependency to write: a version range, a folder (linked
                         as file:) or a tarball (copied into vendor/). Default: ^<version> when
                         this CLI came from the npm registry, else a copy of this CLI's kit in
                         vendor/ (installs offline, survives moving the project)
  -f, --force            write into a non-empty folder, overwriting layout files
  -h, --help             print this help
`;

const spec = {
  name: "new",
  options: {
    repo: { type: "string", short: "r" },
    branch: { type: "string", short: "b" },
    kit: { type: "string" },
    force: { type: "boolean", short: "f" },
  },
  positionals: [1, 1],
} as const;

/** Runs `kratos-ts new`. */
export function runNew(args: readonly string[], out: Output): number {
  const { values, positionals, help } = parseCommand(spec, args);
  if (help) {
    out.stdout(newHelp);
    return 0;
  }
  const target = resolve(positionals[0] ?? "");
  const name = basename(target);
  const invalid = checkServiceName(name);
  if (invalid !== undefined) throw new CliError(invalid);
  const parent = dirname(target);
  if (!existsSync(parent)) throw new CliError(`folder ${parent} does not exist`);
  const exists = existsSync(target);
  if (exists) {
    if (!statSync(target).isDirectory()) throw new CliError(`${target} exists and is not a folder`);
    if (readdirSync(target).length > 0 && values.force !== true) {
      throw new CliError(`${target} exists and is not empty (use --force to write into it)`);
    }
  }
  const source = layoutSource({
    repo: values.repo,
    branch: values.branch,
    warn: (line) => {
      out.stderr(line);
    },
  });
  if (!existsSync(join(source, "cmd", "server", "main.ts"))) {
    throw new CliError(`${source} is not a kratos-ts layout: it has no cmd/server/main.ts`);
  }
  // Everything is written to a staging folder beside the target, then moved in one step: a
  // failure half-way leaves nothing behind.
  const staging = mkdtempSync(join(parent, `.${name}-new-`));
  try {
    const kit = kitDependency(staging, values.kit, kitPackage());
    const files = stamp(source, staging, name, kit.spec);
    if (!exists) renameSync(staging, target);
    else if (readdirSync(target).length === 0) {
      rmdirSync(target);
      renameSync(staging, target);
    } else {
      cpSync(staging, target, { recursive: true, force: true });
    }
    const shown = relative(process.cwd(), target) || ".";
    if (kit.note !== undefined) out.stdout(`${kit.note}\n`);
    out.stdout(
      `created ${name} in ${target} (${String(files)} files)\n\n` +
        `  cd ${shown}\n  npm install\n  npm start\n`,
    );
    return 0;
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/** Writes the project into `dir`; returns the number of files. */
function stamp(source: string, dir: string, name: string, kit: string): number {
  let files = 0;
  const rewrite = (path: string, text: string) => {
    const renamed = renameText(path, text, name);
    return path === "buf.gen.yaml" || path === "buf.gen.conf.yaml"
      ? projectBufGen(renamed)
      : renamed;
  };
  for (const part of layoutParts) {
    // The manifest's build runs the bundle script: a layout source older than it gets the kit's.
    const from =
      part === bundleScript && !existsSync(join(source, part)) ? kitPackage().root : source;
    if (!existsSync(join(from, part))) continue;
    files += copyTree(from, dir, part, {
      skip: skipped,
      target: (path) => targetPath(path, name),
      rewrite,
    });
  }
  // layout/ holds the project's own root files; npm drops files named .gitignore and .npmrc
  // from packages, so they are kept as `gitignore` and `npmrc` and renamed here.
  // A layout source without layout/ gets the bundled one.
  const extras = existsSync(join(source, layoutExtras))
    ? join(source, layoutExtras)
    : join(kitPackage().root, layoutExtras);
  if (existsSync(extras)) {
    for (const entry of readdirSync(extras)) {
      files += copyTree(extras, dir, entry, {
        skip: skipped,
        target: (path) => (path === "gitignore" || path === "npmrc" ? `.${path}` : path),
        rewrite: (path, text) =>
          text.replaceAll("{{name}}", name).replaceAll("{{NAME}}_", envPrefix(name)),
      });
    }
  }
  writeFileSync(join(dir, "package.json"), projectManifest(name, kit, kitPackage()));
  return files + 1;
}
