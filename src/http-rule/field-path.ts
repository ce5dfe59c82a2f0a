// Field paths of google.api.http rules (`{book.shelf_id}`, `body: "book"`), resolved against the
// request and reply messages. The HTTP transport binds with them; the generators check with them.
import type { DescField, DescMessage } from "@bufbuild/protobuf";

/** Why a field path cannot be bound; the generator reports it at generation time. */
export class FieldPathError extends Error {
  override name = "FieldPathError";
}

const indexes = new WeakMap<DescMessage, Map<string, DescField>>();

/** A field by proto name (`user_id`) or JSON name (`userId`). */
export function findField(desc: DescMessage, name: string): DescField | undefined {
  let index = indexes.get(desc);
  if (index === undefined) {
    index = new Map();
    for (const f of desc.fields) {
      index.set(f.name, f);
      index.set(f.jsonName, f);
    }
    indexes.set(desc, index);
  }
  return index.get(name);
}

/**
 * Resolves a dotted field path. Every step but the last must be a singular message field; throws
 * FieldPathError naming the step otherwise.
 */
export function resolveFieldPath(desc: DescMessage, path: readonly string[]): DescField[] {
  const chain: DescField[] = [];
  let current: DescMessage | undefined = desc;
  for (const [i, name] of path.entries()) {
    if (current === undefined) {
      throw new FieldPathError(`"${path.slice(0, i).join(".")}" is not a message field`);
    }
    const field = findField(current, name);
    if (field === undefined) {
      throw new FieldPathError(`${current.typeName} has no field "${name}"`);
    }
    chain.push(field);
    current = field.fieldKind === "message" ? field.message : undefined;
  }
  return chain;
}

/** Checks that a path variable can bind `path`: a singular scalar or enum at the end. */
export function resolvePathVariable(desc: DescMessage, path: readonly string[]): DescField[] {
  const chain = resolveFieldPath(desc, path);
  const leaf = chain[chain.length - 1];
  if (leaf === undefined) throw new FieldPathError("empty field path");
  if (leaf.fieldKind !== "scalar" && leaf.fieldKind !== "enum") {
    throw new FieldPathError(
      `${leaf.parent.typeName}.${leaf.name} is a ${leaf.fieldKind} field; path variables bind singular scalar or enum fields`,
    );
  }
  return chain;
}

/**
 * Well-known types that travel as one URL value in their JSON form (`ts=2024-01-01T00:00:00Z`);
 * other messages are spread into `field.sub=value` keys. The client writes exactly these.
 */
export const stringFormTypes: ReadonlySet<string> = new Set([
  "google.protobuf.Timestamp",
  "google.protobuf.Duration",
  "google.protobuf.FieldMask",
  "google.protobuf.Value",
  "google.protobuf.Struct",
  "google.protobuf.ListValue",
]);
