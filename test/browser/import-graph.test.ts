// The browser-safe entry points reach no node: module and no Node-only package, in the built
// code (what bundlers read) and in the declarations (what a browser project's tsc reads, without
// @types/node). The esbuild bundle of greeter.test.ts (platform browser) is the second proof.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { isBuiltin } from "node:module";
import { join, relative } from "node:path";
import { describe, it } from "node:test";
import { externalImports, specifiersOf } from "../helpers/import-graph.js";
import type { ImportEdge } from "../helpers/import-graph.js";
import { repoRoot } from "../helpers/repo.js";

/** Subpath exports a page may import: the fetch client, the errors generated code uses, context. */
const browserEntries = ["./transport/http/fetch", "./errors", "./context"];

/**
 * Packages the browser graph may import: both publish builds for every platform (protobuf-es
 * and connect-es run in browsers; connect-web is built on them). Anything else fails, so a new
 * dependency is a decision, not an accident.
 */
const universalPackages: ReadonlySet<string> = new Set([
  "@bufbuild/protobuf",
  "@connectrpc/connect",
]);

interface ExportTarget {
  types: string;
  default: string;
}

const exportsMap = (
  JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as {
    exports: Record<string, ExportTarget | string>;
  }
).exports;

function target(entry: string): ExportTarget {
  const t = exportsMap[entry];
  assert.ok(t !== undefined && typeof t !== "string", `package.json exports has no ${entry}`);
  return t;
}

function packageName(specifier: string): string {
  const parts = specifier.split("/");
  return (specifier.startsWith("@") ? parts.slice(0, 2) : parts.slice(0, 1)).join("/");
}

/** The imports a browser cannot load, each as `specifier  (entry -> ... -> importer)`. */
function offending(edges: readonly ImportEdge[]): string[] {
  const bad = edges.filter(
    (e) =>
      e.specifier.startsWith("node:") ||
      isBuiltin(e.specifier) ||
      !universalPackages.has(packageName(e.specifier)),
  );
  return bad.map(
    (e) => `${e.specifier}  (${e.path.map((p) => relative(repoRoot, p)).join(" -> ")})`,
  );
}

describe("browser-safe entry points", () => {
  for (const entry of browserEntries) {
    for (const kind of ["default", "types"] as const) {
      it(`kratos-ts${entry.slice(1)} (${kind === "default" ? "code" : "declarations"}) imports nothing Node-only`, () => {
        const file = join(repoRoot, target(entry)[kind]);
        assert.deepEqual(offending(externalImports(file)), []);
      });
    }
  }

  it("the check catches node: imports, naming the path to them", () => {
    // The node:http client's entry must fail the same check, or the check proves nothing.
    const file = join(repoRoot, target("./transport/http").default);
    const found = offending(externalImports(file));
    const http = found.find((line) => line.startsWith("node:http "));
    assert.ok(http !== undefined, found.join("\n"));
    assert.match(http, /\(dist\/src\/transport\/http\/index\.js -> .+\.js\)$/);
    assert.deepEqual(
      specifiersOf(
        [
          'import { a } from "./a.js";',
          "export {",
          "  b,",
          '} from "node:b";',
          'import "side-effect";',
          'type T = import("node:t").T;',
          '/** import { x } from "in-a-comment"; */',
          '// import { y } from "in-a-line-comment";',
        ].join("\n"),
      ).sort(),
      ["./a.js", "node:b", "node:t", "side-effect"],
    );
  });
});
