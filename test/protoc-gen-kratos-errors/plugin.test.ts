import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { errorFiles, KratosError, toGrpcStatus, fromGrpcStatus } from "kratos-ts/errors";
import { helperName } from "../../cmd/protoc-gen-kratos-errors/plugin.js";
import * as generated from "../fixtures/errors/gen/fixture/v1/reasons_errors.js";
import { generateWithPlugin } from "../helpers/plugin.js";
import { bin, repoRoot, run, tempDir } from "../helpers/repo.js";

const fixtureDir = join(repoRoot, "test/fixtures/errors");

describe("protoc-gen-kratos-errors golden output", () => {
  it("regenerates the committed fixture output byte for byte", () => {
    const out = tempDir();
    try {
      const r = run(bin("buf"), ["generate", "-o", out.path], fixtureDir);
      assert.equal(r.status, 0, r.stderr);
      const file = "gen/fixture/v1/reasons_errors.ts";
      assert.equal(
        readFileSync(join(out.path, file), "utf8"),
        readFileSync(join(fixtureDir, file), "utf8"),
      );
      // plain.proto has no error enum: no helpers for it (protoc-gen-es writes its messages).
      assert.deepEqual(
        run("ls", [join(out.path, "gen/fixture/v1")])
          .stdout.trim()
          .split("\n"),
        ["plain_pb.ts", "reasons_errors.ts", "reasons_pb.ts"],
      );
    } finally {
      out.remove();
    }
  });
});

describe("generated error helpers", () => {
  it("make typed errors with the enum's codes and the value name as reason", () => {
    const cases: [KratosError, number, string][] = [
      [generated.errorErrorReasonUnspecified(), 500, "ERROR_REASON_UNSPECIFIED"],
      [generated.errorUserNotFound(), 404, "USER_NOT_FOUND"],
      [generated.errorUserExists(), 409, "USER_EXISTS"],
      [generated.errorUnprocessable(), 422, "UNPROCESSABLE"],
      [generated.errorHttp2Failure(), 500, "HTTP2_FAILURE"],
      [generated.errorQuotaExceeded(), 429, "QUOTA_EXCEEDED"],
      [generated.errorReasonUnspecified(), 400, "REASON_UNSPECIFIED"],
      [generated.errorOrderClosed(), 412, "ORDER_CLOSED"],
    ];
    for (const [err, code, reason] of cases) {
      assert.ok(err instanceof KratosError);
      assert.deepEqual([err.code, err.reason, err.message], [code, reason, reason]);
    }
  });

  it("take a message and metadata", () => {
    const err = generated.errorUserNotFound("user 7 not found", { id: "7" });
    assert.equal(err.message, "user 7 not found");
    assert.deepEqual(err.metadata, { id: "7" });
  });

  it("recognise their error by reason AND code", () => {
    assert.ok(generated.isUserNotFound(generated.errorUserNotFound("x")));
    assert.ok(generated.isUserNotFound(new KratosError(404, "USER_NOT_FOUND", "hand-made")));
    assert.ok(!generated.isUserNotFound(new KratosError(500, "USER_NOT_FOUND", "wrong code")));
    assert.ok(!generated.isUserNotFound(new KratosError(404, "USER_EXISTS", "wrong reason")));
    assert.ok(!generated.isUserNotFound(generated.errorUserExists()));
    assert.ok(!generated.isUserNotFound(new Error("USER_NOT_FOUND")));
    assert.ok(!generated.isUserNotFound(null));
  });

  it("recognise their error after a trip through gRPC, 422 included", () => {
    const back = fromGrpcStatus(toGrpcStatus(generated.errorUnprocessable("no")));
    assert.ok(generated.isUnprocessable(back));
    assert.ok(
      generated.isUserNotFound(fromGrpcStatus(toGrpcStatus(generated.errorUserNotFound()))),
    );
  });

  it("register their file for server reflection when imported", () => {
    const names = errorFiles().map((f) => f.proto.name);
    assert.ok(names.includes("fixture/v1/reasons.proto"), names.join(", "));
    // The kit's detail types come first; plain.proto, with no helpers, is not there.
    assert.equal(names[0], "google/rpc/error_details.proto");
    assert.ok(!names.includes("fixture/v1/plain.proto"));
  });

  it("exist only for values that have a code", () => {
    const names = Object.keys(generated).sort();
    assert.deepEqual(names, [
      "errorErrorReasonUnspecified",
      "errorHttp2Failure",
      "errorOrderClosed",
      "errorQuotaExceeded",
      "errorReasonUnspecified",
      "errorUnprocessable",
      "errorUserExists",
      "errorUserNotFound",
      "isErrorReasonUnspecified",
      "isHttp2Failure",
      "isOrderClosed",
      "isQuotaExceeded",
      "isReasonUnspecified",
      "isUnprocessable",
      "isUserExists",
      "isUserNotFound",
    ]);
  });
});

describe("helperName", () => {
  const table: [string, string][] = [
    ["USER_NOT_FOUND", "UserNotFound"],
    ["HTTP2_FAILURE", "Http2Failure"],
    ["NOTFOUND", "Notfound"],
    ["userNotFound", "UserNotFound"],
    ["_LEADING__DOUBLE_", "LeadingDouble"],
  ];
  for (const [input, expected] of table) {
    it(`${input} -> ${expected}`, () => {
      assert.equal(helperName(input), expected);
    });
  }
});

function generateBad(file: string) {
  return generateWithPlugin("protoc-gen-kratos-errors", "test/fixtures/errors-bad", file);
}

describe("protoc-gen-kratos-errors bad input", () => {
  it("rejects an (errors.code) outside 100..599, naming the value, file and line", () => {
    const r = generateBad("code_out_of_range.proto");
    assert.notEqual(r.status, 0);
    assert.match(
      r.stderr,
      /code_out_of_range\.proto:11:\d+: enum value bad\.v1\.BadReason\.TEAPOT_OVERFLOW: \(errors\.code\) = 700 is not an HTTP status code/,
    );
  });

  it("rejects an (errors.default_code) outside 100..599, naming the enum", () => {
    const r = generateBad("default_code_out_of_range.proto");
    assert.notEqual(r.status, 0);
    assert.match(
      r.stderr,
      /default_code_out_of_range\.proto:8:\d+: enum bad\.v1\.BadDefault: \(errors\.default_code\) = 42/,
    );
  });

  it("rejects two values whose helpers would share a name", () => {
    const r = generateBad("name_collision.proto");
    assert.notEqual(r.status, 0);
    assert.match(
      r.stderr,
      /name_collision\.proto:\d+:\d+: .*bad\.v1\.Second\.Reason\.REASON_UNSPECIFIED.*ReasonUnspecified/,
    );
  });

  it("reports a malformed proto with its file and line", () => {
    const r = generateBad("syntax_error.proto");
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /syntax_error\.proto:7:\d+/);
  });

  it("reports a missing import with the file and the line of the import", () => {
    const r = generateBad("missing_import.proto");
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /missing_import\.proto:5:\d+: ?imported file does not exist/);
  });
});
