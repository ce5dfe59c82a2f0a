// The pure parts of the CLI: renaming a layout copy, proto names and templates, service stubs.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import {
  checkServiceName,
  envPrefix,
  projectBufGen,
  projectManifest,
  renameService,
  renameText,
  skipped,
  targetPath,
} from "../../cmd/kratos-ts/layout.js";
import { cacheName } from "../../cmd/kratos-ts/layout-source.js";
import { protoNames, protoTemplate } from "../../cmd/kratos-ts/proto-template.js";
import { serviceStub, stubFileName } from "../../cmd/kratos-ts/service-stub.js";
import { file_helloworld_v1_greeter } from "../../api/helloworld/v1/greeter_pb.js";
import { serviceNodeFlags } from "../../src/internal/node-flags.js";
import { repoRoot } from "../helpers/repo.js";
import { file_bookstore_v1_bookstore } from "../fixtures/http/gen/bookstore/v1/bookstore_pb.js";

describe("layout renaming", () => {
  it("accepts service names that work as package, folder and env prefix", () => {
    for (const name of ["demo", "user-svc", "a1", "shop2-api"]) {
      assert.equal(checkServiceName(name), undefined, name);
    }
  });

  it("rejects names with invalid characters, one clear line each", () => {
    for (const name of ["", "Demo", "1demo", "my_svc", "my svc", "-a", "a-", "a--b", "a.b", "ü"]) {
      const error = checkServiceName(name);
      assert.ok(error !== undefined, name);
      assert.ok(!error.includes("\n"), error);
    }
    assert.match(checkServiceName("a".repeat(65)) ?? "", /longer than 64/);
  });

  it("moves cmd/server to cmd/<name> and nothing else", () => {
    assert.equal(targetPath("cmd/server", "demo"), "cmd/demo");
    assert.equal(targetPath("cmd/server/main.ts", "demo"), "cmd/demo/main.ts");
    assert.equal(targetPath("cmd/serverless/x.ts", "demo"), "cmd/serverless/x.ts");
    assert.equal(targetPath("internal/server/http.ts", "demo"), "internal/server/http.ts");
  });

  it("renames files named after the service, not the API's", () => {
    assert.equal(targetPath("configs/helloworld.yaml", "demo"), "configs/demo.yaml");
    assert.equal(
      targetPath("api/helloworld/v1/greeter.proto", "demo"),
      "api/helloworld/v1/greeter.proto",
    );
    assert.equal(targetPath("api/helloworld.md", "demo"), "api/helloworld.md");
  });

  it("tells the service from the example API by how the layout writes them", () => {
    const service = [
      "// The helloworld service; cmd/server starts it.",
      'const name = "helloworld";',
      "source: ./data/helloworld.db # HELLOWORLD_DATA__DATABASE__SOURCE, key /configs/helloworld.yaml",
      "Is it helloworld? `cmd/server`, dist/cmd/server/main.js",
    ].join("\n");
    assert.equal(
      renameService(service, "user-svc"),
      [
        "// The user-svc service; cmd/user-svc starts it.",
        'const name = "user-svc";',
        "source: ./data/user-svc.db # USER_SVC_DATA__DATABASE__SOURCE, key /configs/user-svc.yaml",
        "Is it user-svc? `cmd/user-svc`, dist/cmd/user-svc/main.js",
      ].join("\n"),
    );
    const api = [
      'import { Greeter } from "../../api/helloworld/v1/greeter_pb.js";',
      'import "helloworld/v1/greeter.proto"; // package helloworld.v1;',
      'curl localhost:8000/helloworld/kratos; get: "/helloworld/{name}"',
      'operation="/helloworld.v1.Greeter/SayHello"',
      "file_helloworld_v1_greeter, helloworldClient, myHelloworld, HELLOWORLDX",
      "cmd/serverless, cmd/server-2, internal/server/http.ts",
    ].join("\n");
    assert.equal(renameService(api, "user-svc"), api);
    // Files of api/ are the API: copied as they are, whatever they say.
    assert.equal(
      renameText("api/helloworld/v1/x.proto", "// the helloworld service", "x"),
      "// the helloworld service",
    );
  });

  it("renames the service name, env prefix, usage line and database file", () => {
    const main = [
      "// Env variables `HELLOWORLD_<KEY>__<KEY>` override config keys",
      'const name = "helloworld";',
      'const envPrefix = "HELLOWORLD_";',
    ].join("\n");
    assert.equal(
      renameText("cmd/server/main.ts", main, "user-svc"),
      [
        "// Env variables `USER_SVC_<KEY>__<KEY>` override config keys",
        'const name = "user-svc";',
        'const envPrefix = "USER_SVC_";',
      ].join("\n"),
    );
    assert.equal(
      renameText("cmd/server/flags.ts", 'const usage = "usage: helloworld [-conf <x>]";', "demo"),
      'const usage = "usage: demo [-conf <x>]";',
    );
    assert.equal(
      renameText("configs/config.yaml", "source: ./data/helloworld.db\n", "demo"),
      "source: ./data/demo.db\n",
    );
    // Imports of the entry point follow the folder; the example API keeps its name.
    assert.equal(
      renameText(
        "test/layout/a.test.ts",
        'import "../../cmd/server/wire.js"; // helloworld.v1',
        "x",
      ),
      'import "../../cmd/x/wire.js"; // helloworld.v1',
    );
  });

  it("renames the layout's real entry point", () => {
    const main = renameText(
      "cmd/server/main.ts",
      readFileSync(join(repoRoot, "cmd/server/main.ts"), "utf8"),
      "demo",
    );
    assert.match(main, /const name = "demo";/);
    assert.match(main, /const envPrefix = "DEMO_";/);
    assert.doesNotMatch(main, /HELLOWORLD/);
    const flags = renameText(
      "cmd/server/flags.ts",
      readFileSync(join(repoRoot, "cmd/server/flags.ts"), "utf8"),
      "demo",
    );
    assert.match(flags, /usage: demo /);
  });

  it("points buf.gen.yaml at the installed plugins", () => {
    const text = [
      "  - local: node_modules/.bin/protoc-gen-es",
      "  - local: [node, dist/cmd/protoc-gen-kratos-errors/main.js]",
      "  - local: [node, dist/cmd/protoc-gen-kratos-http/main.js]",
    ].join("\n");
    assert.equal(
      projectBufGen(text),
      [
        "  - local: node_modules/.bin/protoc-gen-es",
        "  - local: node_modules/.bin/protoc-gen-kratos-errors",
        "  - local: node_modules/.bin/protoc-gen-kratos-http",
      ].join("\n"),
    );
  });

  it("skips build output, dependencies and databases", () => {
    for (const path of ["api/node_modules", "internal/dist", "configs/x.db", ".git"]) {
      assert.ok(skipped(path), path);
    }
    assert.ok(!skipped("internal/data/data.ts"));
  });

  it("writes a package.json on the kit's versions, with its Node, lint and an exec'd start", () => {
    const json = JSON.parse(
      projectManifest("demo", "^1.2.3", {
        version: "1.2.3",
        dependencies: { inversify: "^8.0.0", "@bufbuild/protoc-gen-es": "^2.0.0", pino: "^10" },
        devDependencies: {
          node: "24.21.0",
          eslint: "10.0.0",
          fastify: "5.0.0",
          esbuild: "0.28.2",
        },
      }),
    ) as {
      name: string;
      engines: { node: string };
      scripts: Record<string, string>;
      dependencies: Record<string, string>;
      devDependencies: Record<string, string>;
    };
    assert.equal(json.name, "demo");
    assert.deepEqual(json.engines, { node: ">=24" });
    assert.deepEqual(json.dependencies, { "kratos-ts": "^1.2.3", inversify: "^8.0.0" });
    assert.deepEqual(json.devDependencies, {
      "@bufbuild/protoc-gen-es": "^2.0.0",
      esbuild: "0.28.2",
      eslint: "10.0.0",
      node: "24.21.0",
    });
    // The build bundles the service, and npm start runs the bundle (scripts/bundle-service.mjs).
    assert.equal(
      json.scripts.build,
      "node node_modules/typescript-7/bin/tsc -p tsconfig.json && node scripts/bundle-service.mjs demo",
    );
    // exec: npm passes SIGTERM to the shell of the script, which gives way to the service.
    assert.equal(
      json.scripts.start,
      `npm run build && exec node ${serviceNodeFlags.join(" ")} dist/bundle/demo/main.js -conf ./configs`,
    );
    assert.match(json.scripts.test ?? "", /^npm run build && npm run lint && node --test /);
    assert.match(json.scripts.lint ?? "", /eslint .*prettier --check .*buf lint.*buf format/);
    assert.equal(envPrefix("a-b"), "A_B_");
  });

  it("names the cache folder of a layout repository", () => {
    assert.equal(cacheName("https://github.com/x/layout.git", undefined), "github.com-x-layout");
    assert.equal(cacheName("git@host:x/y.git", "dev/1"), "git-host-x-y@dev-1");
  });
});

describe("proto add template", () => {
  it("takes the package from the path and the service from the file name", () => {
    assert.deepEqual(protoNames("api/shop/v1/book_shelf.proto"), {
      pkg: "shop.v1",
      service: "BookShelf",
      collection: "shop/v1/book-shelfs",
    });
    assert.deepEqual(protoNames("./api/a/b.proto"), { pkg: "a", service: "B", collection: "a/bs" });
  });

  it("rejects paths that cannot hold a proto", () => {
    for (const [path, pattern] of [
      ["api/shop/v1/book.txt", /not a \.proto file/],
      ["api/book.proto", /needs a package folder/],
      ["api/Shop/v1/book.proto", /not a proto package name/],
      ["api/shop/v1/Book.proto", /not lower_snake_case/],
      ["api/shop-x/v1/book.proto", /not a proto package name/],
    ] as const) {
      const names = protoNames(path);
      assert.ok("error" in names, path);
      assert.match(names.error, pattern);
    }
  });

  it("writes five CRUD methods with HTTP bindings", () => {
    const names = protoNames("api/shop/v1/book.proto");
    assert.ok(!("error" in names));
    const text = protoTemplate(names);
    assert.match(text, /^syntax = "proto3";\n\npackage shop\.v1;/);
    for (const verb of ["Create", "Update", "Delete", "Get", "List"]) {
      assert.match(
        text,
        new RegExp(`rpc ${verb}Book\\(${verb}BookRequest\\) returns \\(${verb}BookReply\\)`),
      );
    }
    assert.match(text, /post: "\/shop\/v1\/books"\n {6}body: "\*"/);
    assert.match(text, /get: "\/shop\/v1\/books\/\{id\}"/);
    assert.match(text, /delete: "\/shop\/v1\/books\/\{id\}"/);
  });
});

describe("proto server stubs", () => {
  it("writes an injectable class answering UNIMPLEMENTED for every method", () => {
    const [greeter] = file_helloworld_v1_greeter.services;
    assert.ok(greeter !== undefined);
    assert.equal(stubFileName(greeter), "greeter.ts");
    const text = serviceStub(greeter, "../../api/helloworld/v1/greeter_pb.js");
    assert.match(text, /@injectable\(\)\nexport class GreeterService \{/);
    assert.match(
      text,
      /import type \{ CreateGreetingRequest, GetGreetingRequest, Greeting, HelloReply, HelloRequest \} from "\.\.\/\.\.\/api\/helloworld\/v1\/greeter_pb\.js";/,
    );
    assert.match(text, /sayHello\(_req: HelloRequest, _ctx: Context\): Promise<HelloReply> \{/);
    assert.match(text, /unimplemented\("SayHello"\)/);
    assert.match(text, /new KratosError\(501, "", `method \$\{method\} not implemented`\)/);
  });

  it("names files in kebab case", () => {
    const names = file_bookstore_v1_bookstore.services.map(stubFileName);
    assert.ok(
      names.every((n) => /^[a-z0-9-]+\.ts$/.test(n)),
      names.join(),
    );
  });
});
