import type { AnyDesc, DescFile } from "@bufbuild/protobuf";
import { getComments } from "@bufbuild/protoplugin";

type LocatedDesc = Exclude<AnyDesc, DescFile>;

/**
 * `file.proto:line:column` of an element (or of a part of it, given the extra source path, such
 * as one of its options), for generator errors. Falls back to the element, then to the file name,
 * when the request carries no source info for it.
 */
export function sourceLocation(desc: LocatedDesc, extraPath: readonly number[] = []): string {
  const file = fileOf(desc);
  const path = getComments(desc).sourcePath;
  const locations = file.proto.sourceCodeInfo?.location ?? [];
  const find = (p: readonly number[]) =>
    locations.find((l) => l.path.length === p.length && l.path.every((n, i) => n === p[i]));
  const location = find([...path, ...extraPath]) ?? find(path);
  const [line, column] = location?.span ?? [];
  if (line === undefined || column === undefined) return file.name + ".proto";
  return `${file.name}.proto:${line + 1}:${column + 1}`;
}

function fileOf(desc: LocatedDesc): DescFile {
  switch (desc.kind) {
    case "enum_value":
    case "field":
    case "oneof":
      return desc.parent.file;
    case "rpc":
      return desc.parent.file;
    default:
      return desc.file;
  }
}

/** A generator error that names the element; protoplugin prints its message and exits 1. */
export class GeneratorError extends Error {
  constructor(desc: LocatedDesc, message: string, extraPath: readonly number[] = []) {
    super(`${sourceLocation(desc, extraPath)}: ${message}`);
    this.name = "GeneratorError";
  }
}
