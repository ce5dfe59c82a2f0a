import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The installed kratos-ts package: its folder and what its package.json declares. */
export interface InstalledPackage {
  root: string;
  version: string;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
}

// null: looked for and not found (a copy of the sources outside the package).
let cached: InstalledPackage | null | undefined;

function findPackage(): InstalledPackage | null {
  if (cached !== undefined) return cached;
  // Compiled files sit at different depths (dist/src/..., dist/cmd/...): walk up to the package.
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      const json = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as {
        name?: string;
        version?: string;
        dependencies?: Record<string, string>;
        devDependencies?: Record<string, string>;
      };
      if (json.name === "kratos-ts" && json.version !== undefined) {
        return (cached = {
          root: dir,
          version: json.version,
          dependencies: json.dependencies ?? {},
          devDependencies: json.devDependencies ?? {},
        });
      }
    } catch {
      // no readable package.json here: keep walking up
    }
    const parent = dirname(dir);
    if (parent === dir) return (cached = null);
    dir = parent;
  }
}

/** The version of the installed kratos-ts package, read from its package.json ("0.0.0" if none). */
export function packageVersion(): string {
  return findPackage()?.version ?? "0.0.0";
}

/** The installed kratos-ts package, or undefined when this code runs outside one. */
export function installedPackage(): InstalledPackage | undefined {
  return findPackage() ?? undefined;
}
