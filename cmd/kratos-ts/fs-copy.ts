// Copying a layout tree into a project: recursive, with a filter and a per-file text rewrite.
import { chmodSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

// Text is told by content, not by extension: a layout's eslint.config.js, .npmrc, Dockerfile or
// Makefile names the service as much as its .ts files do, and must be renamed with them.
// A byte-order mark is kept (ignoreBOM), so a rewritten file differs only where it is renamed.
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** A file's text, or undefined for binary content (a NUL byte, or not UTF-8): copied as bytes. */
function textOf(bytes: Buffer): string | undefined {
  if (bytes.includes(0)) return undefined;
  try {
    return utf8.decode(bytes);
  } catch {
    return undefined;
  }
}

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
  const stat = statSync(source);
  if (stat.isDirectory()) {
    let count = 0;
    for (const name of readdirSync(source).sort()) {
      count += copyTree(sourceRoot, targetRoot, `${relativePath}/${name}`, options);
    }
    return count;
  }
  const target = join(targetRoot, options.target(relativePath));
  mkdirSync(dirname(target), { recursive: true });
  const bytes = readFileSync(source);
  const text = textOf(bytes);
  writeFileSync(target, text === undefined ? bytes : options.rewrite(relativePath, text));
  // Keep the mode, as a plain copy would: a layout's scripts stay executable.
  chmodSync(target, stat.mode & 0o777);
  return 1;
}
