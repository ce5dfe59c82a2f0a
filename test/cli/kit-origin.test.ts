// Where the running kit came from decides what `kratos-ts new` writes as the dependency: only a
// kit resolved from a registry may be named by version; any other is copied into the project.
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { isLocalSpec, kitDependency, kitOrigin } from "../../cmd/kratos-ts/kit-origin.js";
import { minimumMajor, projectNode } from "../../cmd/kratos-ts/project-node.js";
import { tempDir } from "../helpers/repo.js";

/** An installing folder with kratos-ts in node_modules and npm's hidden lockfile saying how. */
function installed(root: string, resolved: string | undefined): string {
  const kit = join(root, "node_modules", "kratos-ts");
  mkdirSync(kit, { recursive: true });
  writeFileSync(join(kit, "package.json"), '{"name":"kratos-ts","version":"0.3.1"}');
  const entry = resolved === undefined ? { version: "0.3.1" } : { version: "0.3.1", resolved };
  writeFileSync(
    join(root, "node_modules", ".package-lock.json"),
    JSON.stringify({ packages: { "node_modules/kratos-ts": entry } }),
  );
  return kit;
}

describe("kit origin", () => {
  const dir = tempDir("kratos-ts-kit-origin-");
  after(() => {
    dir.remove();
  });

  it("tells a checkout, a registry install and a tarball install apart", () => {
    const checkout = join(dir.path, "checkout");
    mkdirSync(checkout);
    assert.equal(kitOrigin(checkout).kind, "checkout");

    const fromRegistry = installed(
      join(dir.path, "registry"),
      "https://registry.npmjs.org/kratos-ts/-/kratos-ts-0.3.1.tgz",
    );
    assert.deepEqual(kitOrigin(fromRegistry), { kind: "registry", version: "0.3.1" });

    // npx --package=<tarball> records the tarball as a file: URL beside the cache's install.
    const tarball = join(dir.path, "kratos-ts-0.3.1.tgz");
    writeFileSync(tarball, "tarball bytes");
    const fromTarball = installed(join(dir.path, "npx"), `file:${tarball}`);
    assert.deepEqual(kitOrigin(fromTarball), { kind: "file", root: fromTarball, tarball });

    const unknown = installed(join(dir.path, "unknown"), undefined);
    assert.deepEqual(kitOrigin(unknown), { kind: "file", root: unknown, tarball: undefined });
  });

  it("depends on a registry kit by range, on any other by a copy in vendor/", () => {
    const project = join(dir.path, "project");
    mkdirSync(project);
    const fromRegistry = installed(join(dir.path, "registry2"), "https://r.example/k.tgz");
    assert.deepEqual(kitDependency(project, undefined, { root: fromRegistry, version: "0.3.1" }), {
      spec: "^0.3.1",
      note: undefined,
    });

    const tarball = join(dir.path, "kratos-ts-0.3.1.tgz");
    writeFileSync(tarball, "tarball bytes");
    const fromTarball = installed(join(dir.path, "npx2"), `file:${tarball}`);
    const dep = kitDependency(project, undefined, { root: fromTarball, version: "0.3.1" });
    assert.equal(dep.spec, "file:vendor/kratos-ts-0.3.1.tgz");
    assert.match(dep.note ?? "", /not from the npm registry here/);
    assert.equal(
      readFileSync(join(project, "vendor", "kratos-ts-0.3.1.tgz"), "utf8"),
      "tarball bytes",
    );

    // --kit wins: a range as it is, a folder linked by absolute path, a tarball copied.
    assert.equal(
      kitDependency(project, "^9.0.0", { root: fromTarball, version: "" }).spec,
      "^9.0.0",
    );
    assert.equal(
      kitDependency(project, dir.path, { root: fromTarball, version: "" }).spec,
      `file:${dir.path}`,
    );
    const other = join(dir.path, "other.tgz");
    writeFileSync(other, "x");
    assert.equal(
      kitDependency(project, other, { root: fromTarball, version: "" }).spec,
      "file:vendor/other.tgz",
    );
    assert.ok(existsSync(join(project, "vendor", "other.tgz")));
  });

  it("knows a local dependency spec", () => {
    for (const spec of [
      "file:vendor/k.tgz",
      "link:../k",
      "../k",
      "./k.tgz",
      "/abs/k",
      "k.tar.gz",
    ]) {
      assert.ok(isLocalSpec(spec), spec);
    }
    for (const spec of ["^0.1.0", "latest", "0.1.0", "npm:kratos-ts@1"]) {
      assert.ok(!isLocalSpec(spec), spec);
    }
  });
});

describe("the project's Node", () => {
  const dir = tempDir("kratos-ts-project-node-");
  after(() => {
    dir.remove();
  });
  const old = { execPath: "/usr/bin/node", version: "20.20.2" };

  it("is the pinned node_modules/.bin/node, whichever Node runs the CLI", () => {
    const root = join(dir.path, "pinned");
    mkdirSync(join(root, "node_modules", ".bin"), { recursive: true });
    writeFileSync(join(root, "node_modules", ".bin", "node"), "");
    writeFileSync(join(root, "package.json"), '{"engines":{"node":">=24"}}');
    assert.equal(projectNode(root, old), join(root, "node_modules", ".bin", "node"));
  });

  it("is the running Node when it meets engines.node, else one line naming the Node needed", () => {
    const root = join(dir.path, "unpinned");
    mkdirSync(root);
    writeFileSync(join(root, "package.json"), '{"engines":{"node":">=24"}}');
    assert.equal(projectNode(root, { execPath: "/opt/node24", version: "24.1.0" }), "/opt/node24");
    assert.throws(() => projectNode(root, old), {
      message:
        /needs Node >=24 \(engines\.node\), but \/usr\/bin\/node is Node 20\.20\.2 .*run npm install/,
    });
  });

  it("reads the lowest major of simple ranges", () => {
    assert.equal(minimumMajor(">=24"), 24);
    assert.equal(minimumMajor("^22.12.0"), 22);
    assert.equal(minimumMajor("24.x"), 24);
    assert.equal(minimumMajor("*"), undefined);
  });
});
