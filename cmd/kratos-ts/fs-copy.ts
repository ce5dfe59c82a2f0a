// Copying a layout tree into a project: recursive, with a filter and a per-file text rewrite.
import {
  copyFileSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { dirname, extname, join } from "node:path";

/** Files whose text is rewritten on the way (the rest are copied as bytes). */
const textExtensions = new Set([".ts", ".yaml", ".yml", ".md", ".json", ".proto", ".txt"]);

/** Options of {@link copyTree}. */
export interface CopyOptions {
  /** Whether to leave a path (relative to the source root) out. */
  skip: (relativePath: string) => boolean;
  /** Where a path lands, relative to the target root. */
  target: (relativePath: string) => string;
  /** Rewrites a text file's content. */
  rewrite: (relativePath: string, text: string) => string;
}

/**
 * Copies `relativePath` (a file or a folder) from `sourceRoot` to `targetRoot`, returning the
 * number of files written.
 */
export function copyTree(
  sourceRoot: string,
  targetRoot: string,
  relativePath: string,
  options: CopyOptions,
): number {
  if (options.skip(relativePath)) return 0;
  const source = join(sourceRoot, relativePath);
  if (statSync(source).isDirectory()) {
    let count = 0;
    for (const name of readdirSync(source).sort()) {
      count += copyTree(sourceRoot, targetRoot, `${relativePath}/${name}`, options);
    }
    return count;
  }
  const target = join(targetRoot, options.target(relativePath));
  mkdirSync(dirname(target), { recursive: true });
  if (textExtensions.has(extname(relativePath))) {
    writeFileSync(target, options.rewrite(relativePath, readFileSync(source, "utf8")));
  } else {
    copyFileSync(source, target);
  }
  return 1;
}
