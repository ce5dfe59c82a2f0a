import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { clone, createRegistry, equals, fromBinary } from "@bufbuild/protobuf";
import {
  file_google_protobuf_descriptor,
  FileDescriptorProtoSchema,
  FileDescriptorSetSchema,
} from "@bufbuild/protobuf/wkt";
import type { FileDescriptorProto } from "@bufbuild/protobuf/wkt";
import { file_buf_validate_validate } from "@bufbuild/protovalidate/gen/buf/validate/validate_pb.js";
import { copiedFiles, syncThirdParty, validateProtoPath } from "../../scripts/sync-third-party.js";
import { bin, repoRoot, run, tempDir } from "../helpers/repo.js";

describe("third_party", () => {
  it("holds exactly what npm run sync-third-party writes from the pinned packages", () => {
    const out = tempDir();
    try {
      syncThirdParty(out.path);
      for (const file of [...copiedFiles.map((f) => f.to), validateProtoPath, "README.md"]) {
        assert.equal(
          readFileSync(join(repoRoot, "third_party", file), "utf8"),
          readFileSync(join(out.path, file), "utf8"),
          `third_party/${file} is out of date: run npm run sync-third-party`,
        );
      }
    } finally {
      out.remove();
    }
  });

  it("has a validate.proto that compiles back to protovalidate's own descriptor", () => {
    const out = tempDir();
    try {
      const image = join(out.path, "image.binpb");
      const r = run(bin("buf"), [
        "build",
        "--path",
        `third_party/${validateProtoPath}`,
        "-o",
        image,
      ]);
      assert.equal(r.status, 0, r.stderr);
      const built = fromBinary(FileDescriptorSetSchema, readFileSync(image)).file.find(
        (f) => f.name === validateProtoPath,
      );
      assert.ok(built);
      const normalize = (f: FileDescriptorProto): FileDescriptorProto => {
        const copy = clone(FileDescriptorProtoSchema, f);
        copy.sourceCodeInfo = undefined;
        // buf's image adds its own extension to each file; option values stay compared.
        copy.$unknown = undefined;
        for (const m of copy.messageType) for (const field of m.field) field.jsonName = "";
        for (const ext of copy.extension) ext.jsonName = "";
        return copy;
      };
      const want = normalize(file_buf_validate_validate.proto);
      const have = normalize(built);
      assert.ok(
        equals(FileDescriptorProtoSchema, have, want, {
          registry: createRegistry(file_google_protobuf_descriptor),
          unknown: true,
        }),
        "the printed validate.proto does not describe the same schema as the embedded descriptor",
      );
    } finally {
      out.remove();
    }
  });

  it("passes buf lint on api/ and builds as a whole", () => {
    assert.equal(run(bin("buf"), ["lint"]).status, 0);
    assert.equal(run(bin("buf"), ["build"]).status, 0);
  });
});
