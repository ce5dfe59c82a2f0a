// Copies the upstream protos our APIs import into third_party/, from pinned npm packages, so
// `buf generate` never needs the network. Run with `npm run sync-third-party [-- --out DIR]`.
//
// buf/validate/validate.proto is special: @bufbuild/protovalidate ships only the descriptor
// embedded in its generated code, so the source is printed back from that descriptor.
import { createRegistry } from "@bufbuild/protobuf";
import { file_google_protobuf_descriptor } from "@bufbuild/protobuf/wkt";
import { file_buf_validate_validate } from "@bufbuild/protovalidate/gen/buf/validate/validate_pb.js";
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { printProtoSource } from "./proto-source.js";

/** One upstream file: the npm package it comes from, its path there, and its path here. */
export interface ThirdPartyFile {
  pkg: string;
  from: string;
  to: string;
}

/** Every copied file. errors/errors.proto is ours and not listed. */
export const copiedFiles: readonly ThirdPartyFile[] = [
  ...[
    "google/api/annotations.proto",
    "google/api/http.proto",
    "google/api/httpbody.proto",
    "google/api/field_behavior.proto",
    "google/rpc/status.proto",
    "google/rpc/error_details.proto",
    "google/rpc/code.proto",
  ].map((path) => ({ pkg: "google-proto-files", from: path, to: path })),
  {
    pkg: "grpc-health-check",
    from: "proto/health/v1/health.proto",
    to: "grpc/health/v1/health.proto",
  },
  {
    pkg: "@grpc/reflection",
    from: "build/proto/grpc/reflection/v1/reflection.proto",
    to: "grpc/reflection/v1/reflection.proto",
  },
  {
    pkg: "@grpc/reflection",
    from: "build/proto/grpc/reflection/v1alpha/reflection.proto",
    to: "grpc/reflection/v1alpha/reflection.proto",
  },
];

/** Path of the printed validate.proto inside third_party. */
export const validateProtoPath = "buf/validate/validate.proto";

const require = createRequire(import.meta.url);

/** The folder of an installed package (not all of them export their package.json). */
function packageRoot(pkg: string): string {
  let dir = dirname(require.resolve(pkg));
  for (;;) {
    try {
      const json = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { name?: string };
      if (json.name === pkg) return dir;
    } catch {
      // no package.json at this level: keep walking up
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find the folder of package ${pkg}`);
    dir = parent;
  }
}

function packageVersion(pkg: string): string {
  const json = JSON.parse(readFileSync(join(packageRoot(pkg), "package.json"), "utf8")) as {
    version: string;
  };
  return json.version;
}

/** The source of validate.proto, printed from @bufbuild/protovalidate's embedded descriptor. */
export function validateProtoSource(): string {
  const version = packageVersion("@bufbuild/protovalidate");
  return printProtoSource(file_buf_validate_validate.proto, {
    registry: createRegistry(file_google_protobuf_descriptor, file_buf_validate_validate),
    header: [
      "Copyright 2023-2026 Buf Technologies, Inc. Licensed under the Apache License, Version 2.0.",
      "",
      `Printed by scripts/sync-third-party.ts from the descriptor embedded in`,
      `@bufbuild/protovalidate@${version}; the upstream file's comments are not part of it.`,
      "Do not edit: run `npm run sync-third-party`.",
    ],
  });
}

/** Writes every third-party file (plus README.md) under `outDir`. */
export function syncThirdParty(outDir: string): void {
  const rows: string[] = [];
  for (const file of copiedFiles) {
    const target = join(outDir, file.to);
    mkdirSync(dirname(target), { recursive: true });
    copyFileSync(join(packageRoot(file.pkg), file.from), target);
    rows.push(`| \`${file.to}\` | \`${file.pkg}@${packageVersion(file.pkg)}\` \`${file.from}\` |`);
  }
  const validateTarget = join(outDir, validateProtoPath);
  mkdirSync(dirname(validateTarget), { recursive: true });
  writeFileSync(validateTarget, validateProtoSource());
  // buf's formatter turns the one-line option values into readable blocks.
  execFileSync("buf", ["format", "-w", validateTarget], { stdio: "inherit" });
  const protovalidate = `@bufbuild/protovalidate@${packageVersion("@bufbuild/protovalidate")}`;
  rows.push(
    `| \`${validateProtoPath}\` | printed from the descriptor embedded in \`${protovalidate}\` |`,
  );
  writeFileSync(
    join(outDir, "README.md"),
    [
      "# third_party",
      "",
      "Protos the APIs import. `errors/errors.proto` is ours (Kratos-compatible); the rest is",
      "written by `npm run sync-third-party` from pinned npm packages (no network needed) and must",
      "not be edited by hand. Upstream licenses: Apache-2.0 (googleapis, gRPC, protovalidate).",
      "",
      "| file | source |",
      "| --- | --- |",
      ...rows,
      "",
    ].join("\n"),
  );
}

if (import.meta.url === `file://${process.argv[1] ?? ""}`) {
  const { values } = parseArgs({ options: { out: { type: "string", default: "third_party" } } });
  syncThirdParty(values.out);
}
