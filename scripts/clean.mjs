// Removes the given folders: a stale dist/ would keep running deleted tests and modules.
import { rmSync } from "node:fs";

for (const dir of process.argv.slice(2)) rmSync(dir, { recursive: true, force: true });
