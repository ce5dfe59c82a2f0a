import type { DescFile } from "@bufbuild/protobuf";
import { file_errors_errors } from "../gen/errors/errors_pb.js";
import { file_google_rpc_code } from "../gen/google/rpc/code_pb.js";
import { file_google_rpc_error_details } from "../gen/google/rpc/error_details_pb.js";
import { file_google_rpc_status } from "../gen/google/rpc/status_pb.js";

interface ErrorFileSet {
  readonly byName: Map<string, DescFile>;
  list: readonly DescFile[];
}

// One set per process, shared by every copy of this module (as the KratosError brand is), so a
// file registered through one copy is served by a server built from another.
const key = Symbol.for("kratos-ts/error-files");
const shared = globalThis as unknown as Record<symbol, ErrorFileSet | undefined>;
const set: ErrorFileSet = (shared[key] ??= { byName: new Map(), list: [] });

/**
 * Declares proto files whose types can appear in errors: error enums (their value names are the
 * reasons) and detail messages. Server reflection describes every such file, with its imports, so
 * tools that resolve types through it (buf curl, grpcurl) name an error's enum and decode its
 * details, as Go's reflection does for every file linked into a binary.
 *
 * The helpers protoc-gen-kratos-errors writes (`<file>_errors.ts`) call it for their file when
 * they are imported; call it for an error enum or detail message without helpers. The kit's own
 * google.rpc.ErrorInfo, google.rpc.Status, google.rpc.Code and errors.Status are always
 * included. A file is kept once, by name.
 */
export function registerErrorFiles(...files: DescFile[]): void {
  let added = false;
  for (const file of files) {
    if (set.byName.has(file.proto.name)) continue;
    set.byName.set(file.proto.name, file);
    added = true;
  }
  if (added) set.list = Object.freeze([...set.byName.values()]);
}

/**
 * Every file declared with {@link registerErrorFiles}, the kit's first. The array is replaced,
 * not changed, when files are added: the same array means the same files.
 */
export function errorFiles(): readonly DescFile[] {
  return set.list;
}

registerErrorFiles(
  file_google_rpc_error_details,
  file_google_rpc_status,
  file_google_rpc_code,
  file_errors_errors,
);
