// The project a proto or run command works in: the nearest folder, from the working directory
// up, with a package.json and a buf.yaml (what `kratos-ts new` writes).
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { CliError } from "./cli-error.js";

/** The root folder of the project around `from`; throws when there is none. */
export function projectRoot(from = process.cwd()): string {
  let dir = resolve(from);
  for (;;) {
    if (existsSync(join(dir, "package.json")) && existsSync(join(dir, "buf.yaml"))) return dir;
    const parent = dirname(dir);
    if (parent === dir) {
      throw new CliError(
        `not inside a kratos-ts project (no package.json with a buf.yaml in ${resolve(from)} or above)`,
      );
    }
    dir = parent;
  }
}
