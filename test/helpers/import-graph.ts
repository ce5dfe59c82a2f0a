// The static import graph of built ES modules (tsc output, .js or .d.ts), read with a scanner
// small enough to trust: tsc prints every import and re-export as `import ... from "x"`,
// `export ... from "x"` or `import "x"`, and type positions as `import("x")`.
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";

/** A module specifier found in a file, with the chain of files that reached it. */
export interface ImportEdge {
  /** The specifier as written: `./codec.js`, `@bufbuild/protobuf`, `node:http`. */
  specifier: string;
  /** The files from the entry to the one that imports `specifier`, entry first. */
  path: readonly string[];
}

const patterns = [
  /^\s*(?:import|export)\s[^;]*?\sfrom\s*["']([^"']+)["']/gms,
  /^\s*import\s*["']([^"']+)["']/gm,
  /\bimport\(\s*["']([^"']+)["']\s*\)/g,
];

/** The module specifiers of one file's source. */
export function specifiersOf(source: string): string[] {
  // Comments may quote imports (JSDoc examples); they are not edges.
  const code = source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  const found = new Set<string>();
  for (const pattern of patterns) {
    for (const match of code.matchAll(pattern)) if (match[1] !== undefined) found.add(match[1]);
  }
  return [...found];
}

/**
 * Walks the graph from `entry` through relative imports (`./x.js`; in declaration files
 * `./x.js` means `./x.d.ts`) and returns every non-relative import with how it was reached.
 * Packages are not entered: what they may import is the allowlist's business.
 */
export function externalImports(entry: string): ImportEdge[] {
  const declarations = entry.endsWith(".d.ts");
  const edges: ImportEdge[] = [];
  const seen = new Set<string>();
  const walk = (file: string, path: readonly string[]): void => {
    if (seen.has(file)) return;
    seen.add(file);
    const here = [...path, file];
    for (const specifier of specifiersOf(readFileSync(file, "utf8"))) {
      if (specifier.startsWith(".")) {
        const target = resolve(dirname(file), specifier);
        walk(declarations ? target.replace(/\.js$/, ".d.ts") : target, here);
      } else {
        edges.push({ specifier, path: here });
      }
    }
  };
  walk(entry, []);
  return edges;
}
