import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

let cached: string | undefined;

/** The version of the installed kratos-ts package, read from its package.json. */
export function packageVersion(): string {
  if (cached !== undefined) return cached;
  // Compiled files sit at different depths (dist/src/..., dist/cmd/...): walk up to the package.
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      const json = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as {
        name?: string;
        version?: string;
      };
      if (json.name === "kratos-ts" && json.version !== undefined) return (cached = json.version);
    } catch {
      // no readable package.json here: keep walking up
    }
    const parent = dirname(dir);
    if (parent === dir) return (cached = "0.0.0");
    dir = parent;
  }
}
