// The keys of the config that scanning into a message would drop: proto JSON scanning ignores
// unknown fields (as Kratos does), so a typo such as `timout` silently leaves the default in
// place. The walk follows the descriptor the same way scan does.
import type { DescMessage } from "@bufbuild/protobuf";
import { isOpaque } from "./scan.js";
import { isMap, originOf } from "./tree.js";
import type { Tree } from "./tree.js";

/** A config key that no field of the scanned message takes; see `Config.unknownKeys`. */
export interface UnknownKey {
  /** The dotted key from the config root: `server.http.timout`. */
  readonly key: string;
  /** The file or source that set it (a file path, `env`, `etcd:<key>`), when known. */
  readonly file: string | undefined;
}

/** The unknown keys of `value` (found at `path` of `tree`) for a message of `schema`. */
export function unknownKeys(
  schema: DescMessage,
  value: unknown,
  path: string,
  tree: Tree,
): UnknownKey[] {
  const found: string[] = [];
  walk(schema, value, path, found);
  return found
    .filter((key) => !isReferenced(tree, key))
    .map((key) => ({ key, file: originOf(tree, key) }));
}

function walk(desc: DescMessage, value: unknown, path: string, found: string[]): void {
  // Not a map: scan reports the type mismatch; opaque types hold data, not field names.
  if (isOpaque(desc) || !isMap(value)) return;
  for (const [key, child] of Object.entries(value)) {
    const at = path === "" ? key : `${path}.${key}`;
    const field = desc.fields.find((f) => f.name === key || f.jsonName === key);
    if (field === undefined) {
      // The highest unknown key only: what is under it is unknown with it.
      found.push(at);
    } else if (field.fieldKind === "message") {
      walk(field.message, child, at, found);
    } else if (field.fieldKind === "list" && field.listKind === "message" && Array.isArray(child)) {
      child.forEach((item: unknown, i) => {
        walk(field.message, item, `${at}.${i}`, found);
      });
    } else if (field.fieldKind === "map" && field.mapKind === "message" && isMap(child)) {
      // The map's keys are data; the messages it holds still have fields to misspell.
      for (const [entry, item] of Object.entries(child)) {
        walk(field.message, item, `${at}.${entry}`, found);
      }
    }
  }
}

// A key read by a placeholder (`${ports.http}`), or with a part of it read, is in use.
function isReferenced(tree: Tree, key: string): boolean {
  for (const ref of tree.referenced) {
    if (ref === key || ref.startsWith(`${key}.`) || key.startsWith(`${ref}.`)) return true;
  }
  return false;
}
