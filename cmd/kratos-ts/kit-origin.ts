// Where the running kit came from, and how a new project depends on it. kratos-ts is not always
// installed from the npm registry (it is not published yet): a project made by a CLI from a
// checkout, `npm link` or a tarball must not name a registry version that does not exist.
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readFileSync, realpathSync, statSync } from "node:fs";
import { basename, join, relative, resolve, sep } from "node:path";
import { CliError } from "./cli-error.js";

/** How the kit package at a folder was installed. */
export type KitOrigin =
  | { kind: "registry"; version: string }
  /** A checkout or a linked folder (`npm link`): not inside node_modules. */
  | { kind: "checkout"; root: string }
  /** Installed from a tarball or a folder (`npx --package=<tgz>`, `file:`); `tarball` if known. */
  | { kind: "file"; root: string; tarball: string | undefined };

/** Folder of a project where `new` keeps its copy of a local kit. */
export const vendorDir = "vendor";

/**
 * The origin of the kit whose package folder is `root`: a folder outside node_modules is a
 * checkout; inside node_modules, npm's lock data of the installing folder says whether it was
 * resolved from a registry URL. Anything unknown counts as local, which installs offline.
 */
export function kitOrigin(root: string): KitOrigin {
  const real = realpathSync(root);
  const at = real.lastIndexOf(`${sep}node_modules${sep}`);
  if (at < 0) return { kind: "checkout", root: real };
  const installer = real.slice(0, at);
  const key = relative(installer, real).split(sep).join("/");
  for (const lock of ["node_modules/.package-lock.json", "package-lock.json"]) {
    const entry = lockEntry(join(installer, lock), key);
    if (entry === undefined) continue;
    const resolved = entry.resolved ?? "";
    if (/^https?:\/\//.test(resolved) && entry.version !== undefined) {
      return { kind: "registry", version: entry.version };
    }
    const file = resolved.startsWith("file:") ? resolve(installer, resolved.slice(5)) : undefined;
    const tarball = file !== undefined && /\.t(ar\.)?gz$/.test(file) ? file : undefined;
    return { kind: "file", root: real, tarball };
  }
  return { kind: "file", root: real, tarball: undefined };
}

interface LockEntry {
  version?: string;
  resolved?: string;
}

function lockEntry(path: string, key: string): LockEntry | undefined {
  try {
    const lock = JSON.parse(readFileSync(path, "utf8")) as { packages?: Record<string, LockEntry> };
    return lock.packages?.[key];
  } catch {
    return undefined;
  }
}

/** Whether a `kratos-ts` dependency spec names a local kit (a path, a tarball, a link). */
export function isLocalSpec(spec: string): boolean {
  return /^(file:|link:|\.{0,2}\/|~\/)/.test(spec) || /\.t(ar\.)?gz$/.test(spec);
}

/** A dependency spec and the line that tells the user about it. */
export interface KitDependency {
  spec: string;
  /** One line for the user when the choice is not the obvious `^version`. */
  note: string | undefined;
}

/**
 * The `kratos-ts` dependency of a new project in `project` (which exists and is empty or being
 * staged). `--kit` wins: a tarball is copied into the project, a folder is linked as
 * `file:<absolute path>`, anything else is a registry range. Without it, a kit from the registry
 * gives `^version`; a local kit is packed (or its tarball copied) into `vendor/`, referenced
 * relatively, so the project installs offline and survives being moved.
 */
export function kitDependency(
  project: string,
  kit: string | undefined,
  running: { root: string; version: string },
): KitDependency {
  if (kit !== undefined) {
    if (!existsSync(kit)) return { spec: kit, note: undefined };
    if (statSync(kit).isDirectory()) return { spec: `file:${resolve(kit)}`, note: undefined };
    const copy = vendorTarball(project, resolve(kit));
    return { spec: `file:${copy}`, note: `kratos-ts comes from ${copy}, a copy of ${kit}` };
  }
  const origin = kitOrigin(running.root);
  if (origin.kind === "registry") return { spec: `^${origin.version}`, note: undefined };
  const tarball =
    origin.kind === "file" && origin.tarball !== undefined && existsSync(origin.tarball)
      ? origin.tarball
      : undefined;
  const copy =
    tarball === undefined ? packKit(project, origin.root) : vendorTarball(project, tarball);
  const from =
    tarball === undefined ? `packed from the kit at ${origin.root}` : `a copy of ${tarball}`;
  return {
    spec: `file:${copy}`,
    note: `kratos-ts is not from the npm registry here: the project depends on ${copy}, ${from}`,
  };
}

/** Copies a tarball into `<project>/vendor/`; returns its path relative to the project. */
export function vendorTarball(project: string, tarball: string): string {
  mkdirSync(join(project, vendorDir), { recursive: true });
  const name = basename(tarball);
  copyFileSync(tarball, join(project, vendorDir, name));
  return `${vendorDir}/${name}`;
}

/** Packs the kit folder `root` into `<project>/vendor/` with npm; returns the relative path. */
export function packKit(project: string, root: string): string {
  const dest = join(project, vendorDir);
  mkdirSync(dest, { recursive: true });
  // --ignore-scripts: the kit's prepack builds from sources, which an installed copy lacks; the
  // compiled dist/ this CLI runs from is what gets packed.
  const r = spawnSync("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", dest], {
    cwd: root,
    encoding: "utf8",
  });
  if (r.error !== undefined || r.status !== 0) {
    const why = r.error?.message ?? r.stderr.trim().split("\n").pop() ?? "";
    throw new CliError(`cannot pack the kit at ${root} with npm pack: ${why}`);
  }
  const [packed] = JSON.parse(r.stdout) as { filename: string }[];
  if (packed === undefined) throw new CliError(`npm pack in ${root} wrote no tarball`);
  const file = basename(packed.filename);
  if (!existsSync(join(dest, file))) {
    throw new CliError(`npm pack in ${root} did not write ${join(dest, file)}`);
  }
  return `${vendorDir}/${file}`;
}
