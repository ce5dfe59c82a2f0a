import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

let cached: { root: string; version: string } | undefined;

/** The installed kratos-ts package: its folder and version, from its package.json. */
function installedPackage(): { root: string; version: string } {
  if (cached !== undefined) return cached;
  // Compiled files sit at different depths (dist/src/..., dist/cmd/...): walk up to the package.
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      const json = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as {
        name?: string;
        version?: string;
      };
      if (json.name === "kratos-ts" && json.version !== undefined) {
        return (cached = { root: dir, version: json.version });
      }
    } catch {
      // no readable package.json here: keep walking up
    }
    const parent = dirname(dir);
    if (parent === dir) return (cached = { root: "", version: "0.0.0" });
    dir = parent;
  }
}

/** The version of the installed kratos-ts package, read from its package.json. */
export function packageVersion(): string {
  return installedPackage().version;
}

/** The folder of the installed kratos-ts package ("" when it cannot be found). */
export function packageRoot(): string {
  return installedPackage().root;
}
