// The merged config tree and the origin of each of its values.

/** A plain object (not an array, not null). */
export function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * The merged config: the tree, and per dotted path the origin that set it (a file, `env`), so
 * errors about a value can name the file it came from.
 */
export interface Tree {
  root: Record<string, unknown>;
  origins: Map<string, string>;
  /**
   * The dotted keys that placeholders read (`${ports.http}`): keys kept only for that are used,
   * so the unknown-key check leaves them alone.
   */
  referenced: Set<string>;
}

/** An empty tree. */
export function emptyTree(): Tree {
  return { root: {}, origins: new Map(), referenced: new Set() };
}

/** Merges `value` into `tree`: maps deep-merge; lists and scalars replace what was there. */
export function mergeInto(tree: Tree, value: Record<string, unknown>, origin: string): void {
  mergeMap(tree, tree.root, value, origin, "");
}

function mergeMap(
  tree: Tree,
  target: Record<string, unknown>,
  source: Record<string, unknown>,
  origin: string,
  prefix: string,
): void {
  for (const [key, value] of Object.entries(source)) {
    const path = prefix === "" ? key : `${prefix}.${key}`;
    const current = target[key];
    if (isMap(current) && isMap(value)) {
      tree.origins.set(path, origin);
      mergeMap(tree, current, value, origin, path);
      continue;
    }
    for (const known of tree.origins.keys()) {
      if (known.startsWith(`${path}.`)) tree.origins.delete(known);
    }
    const copy = structuredClone(value);
    target[key] = copy;
    setOrigins(tree, copy, origin, path);
  }
}

function setOrigins(tree: Tree, value: unknown, origin: string, path: string): void {
  tree.origins.set(path, origin);
  if (isMap(value)) {
    for (const [key, child] of Object.entries(value))
      setOrigins(tree, child, origin, `${path}.${key}`);
  } else if (Array.isArray(value)) {
    value.forEach((child, i) => {
      setOrigins(tree, child, origin, `${path}.${i}`);
    });
  }
}

/** The value at a dotted path (`server.http.addr`, `list.0`), or undefined. */
export function lookup(root: unknown, path: string): unknown {
  if (path === "") return root;
  let current = root;
  for (const part of path.split(".")) {
    if (isMap(current)) current = Object.hasOwn(current, part) ? current[part] : undefined;
    else if (Array.isArray(current) && /^\d+$/.test(part)) current = current[Number(part)];
    else return undefined;
  }
  return current;
}

/** The origin of a path: its own, or the nearest parent's. */
export function originOf(tree: Tree, path: string): string | undefined {
  for (let p = path; ; p = p.slice(0, p.lastIndexOf("."))) {
    const origin = tree.origins.get(p);
    if (origin !== undefined) return origin;
    if (!p.includes(".")) return undefined;
  }
}

/** Structural equality of plain config values. */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((v, i) => deepEqual(v, b[i]));
  }
  if (isMap(a) && isMap(b)) {
    const keys = Object.keys(a);
    return (
      keys.length === Object.keys(b).length &&
      keys.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]))
    );
  }
  return false;
}
