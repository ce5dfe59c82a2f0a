// The Node a project's service runs on: the one the project pins (the npm package `node`, whose
// binary npm links as node_modules/.bin/node), not whichever Node runs the CLI. A global or
// linked CLI is often started by an older system Node, on which the service cannot run.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { CliError } from "./cli-error.js";

/** The Node running now: its executable and version (`24.1.0`). */
export interface RunningNode {
  execPath: string;
  version: string;
}

/**
 * The executable to run the project's build and service with: its pinned
 * node_modules/.bin/node, else the running Node when it meets the project's `engines.node`;
 * otherwise a one-line error naming the Node the project needs.
 */
export function projectNode(
  root: string,
  running: RunningNode = { execPath: process.execPath, version: process.versions.node },
): string {
  const pinned = join(root, "node_modules", ".bin", "node");
  if (existsSync(pinned)) return pinned;
  const wanted = enginesNode(root);
  const minimum = wanted === undefined ? undefined : minimumMajor(wanted);
  const major = Number(running.version.split(".")[0]);
  if (minimum === undefined || major >= minimum) return running.execPath;
  throw new CliError(
    `this project needs Node ${wanted ?? ""} (engines.node), but ${running.execPath} is Node ` +
      `${running.version} and node_modules/.bin/node is missing: run npm install in ${root}`,
  );
}

function enginesNode(root: string): string | undefined {
  try {
    const manifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
      engines?: { node?: unknown };
    };
    const node = manifest.engines?.node;
    return typeof node === "string" ? node : undefined;
  } catch {
    return undefined;
  }
}

/** The lowest major version a simple range allows (`>=24`, `^24.1`, `24.x`); else undefined. */
export function minimumMajor(range: string): number | undefined {
  const m = /^\s*(?:>=|\^|~|=)?\s*v?(\d+)/.exec(range);
  return m?.[1] === undefined ? undefined : Number(m[1]);
}
