// Marks the package's bins executable after a build. npm sets the mode when it installs or
// links the package, but the build recreates dist/: without this, a CLI linked with `npm link`
// stops working ("Permission denied") after the next `npm run build`.
import { chmodSync, existsSync, readFileSync } from "node:fs";

const { bin = {} } = JSON.parse(readFileSync("package.json", "utf8"));
for (const file of Object.values(bin)) {
  if (existsSync(file)) chmodSync(file, 0o755);
}
