// `proto client` runs the project's generators on one path, except the OpenAPI plugin, which
// must see every API of the project: the template is split in two.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { splitTemplate } from "../../cmd/kratos-ts/buf-workspace.js";

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
