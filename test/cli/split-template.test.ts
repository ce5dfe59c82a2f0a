// `proto client` runs the project's generators on one path, except the OpenAPI plugin, which
// must see every API of the project: the template is split in two.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import {
  bufModules,
  messagesOut,
  moduleFile,
  splitTemplate,
} from "../../cmd/kratos-ts/buf-workspace.js";
import { tempDir } from "../helpers/repo.js";

const template = `version: v2
inputs:
  - directory: api
plugins:
  - local: protoc-gen-es
    out: api
  - local: [node, node_modules/kratos-ts/dist/cmd/protoc-gen-kratos-http/main.js]
    out: api
  - local: [node, node_modules/kratos-ts/dist/cmd/protoc-gen-kratos-openapi/main.js]
    out: api
    strategy: all
`;

type Template = { version: string; plugins: { local: unknown }[] };

describe("splitTemplate", () => {
  it("runs every plugin but the OpenAPI one on the path, and the OpenAPI one on everything", () => {
    const { limited, whole } = splitTemplate(template);
    assert.ok(limited !== undefined && whole !== undefined);
    const a = JSON.parse(limited) as Template;
    const b = JSON.parse(whole) as Template;
    assert.equal(a.version, "v2");
    assert.deepEqual(
      a.plugins.map((p) => JSON.stringify(p.local)),
      [
        '"protoc-gen-es"',
        '["node","node_modules/kratos-ts/dist/cmd/protoc-gen-kratos-http/main.js"]',
      ],
    );
    assert.deepEqual(b.plugins, [
      {
        local: ["node", "node_modules/kratos-ts/dist/cmd/protoc-gen-kratos-openapi/main.js"],
        out: "api",
        strategy: "all",
      },
    ]);
  });

  it("leaves out a side without plugins", () => {
    assert.equal(
      splitTemplate("version: v2\nplugins:\n  - local: protoc-gen-es\n").whole,
      undefined,
    );
    const onlyOpenapi = splitTemplate(
      "version: v2\nplugins:\n  - local: [node, protoc-gen-kratos-openapi/main.js]\n",
    );
    assert.equal(onlyOpenapi.limited, undefined);
    assert.ok(onlyOpenapi.whole !== undefined);
  });
});

describe("proto commands on a module of their own", () => {
  it("generate the module next to its protos, and the OpenAPI document over every input", () => {
    const { limited, whole } = splitTemplate(template, "proto");
    assert.ok(limited !== undefined && whole !== undefined);
    const a = JSON.parse(limited) as { inputs: unknown; plugins: { out: string }[] };
    assert.deepEqual(a.inputs, [{ directory: "proto" }]);
    assert.deepEqual(
      a.plugins.map((p) => p.out),
      ["proto", "proto"],
    );
    assert.equal(messagesOut(limited, "proto"), "proto");
    const b = JSON.parse(whole) as { inputs: unknown; plugins: { out: string }[] };
    assert.deepEqual(b.inputs, [{ directory: "api" }, { directory: "proto" }]);
    assert.equal(b.plugins[0]?.out, "api");
  });

  it("keep the template as it is for its own input", () => {
    const { limited, whole } = splitTemplate(template, "api");
    assert.deepEqual((JSON.parse(limited ?? "{}") as { inputs: unknown }).inputs, [
      { directory: "api" },
    ]);
    assert.deepEqual((JSON.parse(whole ?? "{}") as { inputs: unknown }).inputs, [
      { directory: "api" },
    ]);
  });

  it("find a file's module in buf.yaml, the deepest first", () => {
    const dir = tempDir("kratos-ts-modules-");
    try {
      writeFileSync(
        join(dir.path, "buf.yaml"),
        "version: v2\nmodules:\n  - path: api\n  - path: proto/\n  - path: proto/vendor\n",
      );
      assert.deepEqual(bufModules(dir.path), ["api", "proto", "proto/vendor"]);
      assert.deepEqual(moduleFile(dir.path, "proto/echo/v1/echo.proto"), {
        module: "proto",
        name: "echo/v1/echo.proto",
      });
      assert.deepEqual(moduleFile(dir.path, "proto/vendor/x/v1/x.proto"), {
        module: "proto/vendor",
        name: "x/v1/x.proto",
      });
      assert.throws(() => moduleFile(dir.path, "other/a/v1/a.proto"), {
        message: /is in no module of buf\.yaml \(modules: api, proto, proto\/vendor\)/,
      });
      writeFileSync(join(dir.path, "buf.yaml"), "version: v2\n");
      assert.deepEqual(moduleFile(dir.path, "a/v1/a.proto"), { module: ".", name: "a/v1/a.proto" });
    } finally {
      dir.remove();
    }
  });
});
