import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { generateWithPlugin } from "../helpers/plugin.js";
import { bin, repoRoot, run, tempDir } from "../helpers/repo.js";

const fixtureDir = join(repoRoot, "test/fixtures/http");

describe("protoc-gen-kratos-http golden output", () => {
  it("regenerates the committed fixture output byte for byte", () => {
    const out = tempDir();
    try {
      const r = run(bin("buf"), ["generate", "-o", out.path], fixtureDir);
      assert.equal(r.status, 0, r.stderr);
      const dir = "gen/bookstore/v1";
      assert.deepEqual(readdirSync(join(out.path, dir)).sort(), [
        "bookstore_http.ts",
        "bookstore_pb.ts",
      ]);
      for (const file of [`${dir}/bookstore_http.ts`, "gen/openapi.yaml"]) {
        assert.equal(
          readFileSync(join(out.path, file), "utf8"),
          readFileSync(join(fixtureDir, file), "utf8"),
          file,
        );
      }
    } finally {
      out.remove();
    }
  });

  it("gives methods without a rule no route and no client method", () => {
    const code = readFileSync(join(fixtureDir, "gen/bookstore/v1/bookstore_http.ts"), "utf8");
    assert.doesNotMatch(code, /internal\(/);
    assert.match(code, /getShelf\(req/);
  });
});

describe("protoc-gen-kratos-http and protoc-gen-kratos-openapi bad input", () => {
  const cases: [string, RegExp][] = [
    [
      "missing_field.proto",
      /missing_field\.proto:9:\d+: rpc bad\.v1\.Things\.GetThing: GET \/v1\/things\/\{thing_id\} .*has no field "thing_id"/,
    ],
    [
      "message_path_field.proto",
      /message_path_field\.proto:\d+:\d+: rpc bad\.v1\.Things\.GetThing \(additional_bindings\[0\]\): .*bad\.v1\.GetThingRequest\.thing is a message field/,
    ],
    [
      "streaming.proto",
      /streaming\.proto:\d+:\d+: rpc bad\.v1\.Things\.WatchThings: google\.api\.http bindings need a unary method/,
    ],
    [
      "unknown_method.proto",
      /unknown_method\.proto:\d+:\d+: .*custom method "FROBNICATE" is not an HTTP method/,
    ],
    ["bad_template.proto", /bad_template\.proto:\d+:\d+: .*\*\* must be the last segment/],
    [
      "route_conflict.proto",
      /route_conflict\.proto:\d+:\d+: rpc bad\.v1\.Things\.FindThing: GET \/v1\/things\/\{name\} is the same route as rpc bad\.v1\.Things\.GetThing \(GET \/v1\/things\/\{id\}\); the server cannot tell them apart/,
    ],
  ];
  // protoc-gen-kratos-openapi reads bindings through the same code: the same failures.
  for (const plugin of ["protoc-gen-kratos-http", "protoc-gen-kratos-openapi"]) {
    for (const [file, message] of cases) {
      it(`${plugin} fails on ${file}, naming the element`, () => {
        const r = generateWithPlugin(plugin, "test/fixtures/http-bad", file);
        assert.notEqual(r.status, 0);
        assert.match(r.stderr, message);
      });
    }
  }
});

describe("protoc-gen-kratos-openapi on routes the server tells apart but OpenAPI cannot", () => {
  const cases: [string, RegExp][] = [
    [
      "openapi_same_operation.proto",
      /openapi_same_operation\.proto:\d+:\d+: rpc bad\.v1\.Library\.GetShelved: its OpenAPI operation GET \/v1\/\{name\} is also rpc bad\.v1\.Library\.GetAny's/,
    ],
  ];
  for (const [file, message] of cases) {
    it(`protoc-gen-kratos-openapi fails on ${file}, naming both bindings`, () => {
      const r = generateWithPlugin("protoc-gen-kratos-openapi", "test/fixtures/http-bad", file);
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, message);
    });
    it(`protoc-gen-kratos-http serves ${file}`, () => {
      const r = generateWithPlugin("protoc-gen-kratos-http", "test/fixtures/http-bad", file);
      assert.equal(r.status, 0, r.stderr);
    });
  }
});
