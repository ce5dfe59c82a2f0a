// The built CLI as a process: help, version, and every bad input of issue 7 answered with one
// line and a non-zero exit, leaving nothing half-written behind.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { packageVersion } from "../../src/internal/package-version.js";
import { repoRoot, run, tempDir } from "../helpers/repo.js";
import type { RunResult } from "../helpers/repo.js";

const cli = join(repoRoot, "dist", "cmd", "kratos-ts", "main.js");

/** Runs the CLI in `cwd` with HOME in the test's temp folder (the -r cache lands there). */
function kratos(cwd: string, home: string, ...args: string[]): RunResult {
  const r = spawnSync(process.execPath, [cli, ...args], {
    cwd,
    encoding: "utf8",
    env: {
      ...process.env,
      HOME: home,
      PATH: `${join(repoRoot, "node_modules", ".bin")}:${process.env.PATH ?? ""}`,
    },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Asserts a failure: the exit code and one stderr line matching `pattern`. */
function assertFails(r: RunResult, code: number, pattern: RegExp): void {
  assert.equal(r.status, code, `exit ${String(r.status)}: ${r.stderr}`);
  const lines = r.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, `one line expected: ${r.stderr}`);
  assert.match(lines[0] ?? "", /^kratos-ts: /);
  assert.match(lines[0] ?? "", pattern);
}

describe("kratos-ts CLI", () => {
  const dir = tempDir("kratos-ts-cli-");
  const home = join(dir.path, "home");
  const work = join(dir.path, "work");
  before(() => {
    mkdirSync(home);
    mkdirSync(work);
  });
  after(() => {
    dir.remove();
  });

  it("prints its version and help", () => {
    assert.equal(kratos(work, home, "-v").stdout, `${packageVersion()}\n`);
    assert.equal(kratos(work, home, "--version").status, 0);
    const help = kratos(work, home, "--help");
    assert.equal(help.status, 0);
    assert.match(help.stdout, /new <name\|path>/);
    for (const command of ["new", "run", "upgrade"]) {
      const r = kratos(work, home, command, "--help");
      assert.equal(r.status, 0, command);
      assert.match(r.stdout, new RegExp(`^Usage: kratos-ts ${command}`), command);
    }
    for (const command of ["add", "client", "server"]) {
      const r = kratos(work, home, "proto", command, "-h");
      assert.equal(r.status, 0, command);
      assert.match(r.stdout, new RegExp(`^Usage: kratos-ts proto ${command}`), command);
    }
    const bare = kratos(work, home);
    assert.equal(bare.status, 0);
    assert.equal(bare.stdout, help.stdout);
  });

  it("rejects unknown commands, options and arguments with one line and exit 2", () => {
    const unknown = kratos(work, home, "frobnicate");
    assert.equal(unknown.status, 2);
    assert.equal(unknown.stdout, "");
    assert.equal(
      unknown.stderr,
      'kratos-ts: unknown command "frobnicate" (see kratos-ts --help)\n',
    );
    assertFails(kratos(work, home, "--frob"), 2, /unknown option "--frob"/);
    assertFails(
      kratos(work, home, "new", "demo", "--nope"),
      2,
      /unknown option "--nope" \(see kratos-ts new --help\)/,
    );
    assertFails(kratos(work, home, "new"), 2, /missing argument/);
    assertFails(kratos(work, home, "new", "a", "b"), 2, /unexpected argument "b"/);
    assertFails(kratos(work, home, "new", "demo", "-r"), 2, /option "-r" needs a value/);
    assertFails(kratos(work, home, "proto", "frob"), 2, /unknown proto command "frob"/);
    assertFails(kratos(work, home, "upgrade", "x"), 2, /unexpected argument "x"/);
    assert.deepEqual(readdirSync(work), []);
  });

  it("runs through a symlink to its script and a path with a space, as npm's bin link does", () => {
    const linkDir = join(dir.path, "bin dir");
    mkdirSync(linkDir);
    // npm's name for the link, and any other name a user or tool gives the script.
    for (const name of ["kratos-ts", "main.js"]) {
      const link = join(linkDir, name);
      symlinkSync(cli, link);
      const r = spawnSync(process.execPath, [link, "-v"], { cwd: work, encoding: "utf8" });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, `${packageVersion()}\n`, name);
    }
  });

  it("reports a file it cannot write as one line, without a stack", () => {
    const file = join(dir.path, "a-file");
    writeFileSync(file, "");
    assertFails(kratos(work, home, "new", join(file, "demo")), 1, /ENOTDIR|not a directory/);
  });

  it("rejects service names with invalid characters", () => {
    for (const name of ["My_Svc", "1abc", "a b"]) {
      assertFails(kratos(work, home, "new", name), 1, /invalid service name/);
    }
    assert.deepEqual(readdirSync(work), []);
  });

  it("refuses a target that exists, unless forced", () => {
    const taken = join(work, "taken");
    mkdirSync(taken);
    writeFileSync(join(taken, "notes.txt"), "mine");
    assertFails(kratos(work, home, "new", "taken"), 1, /exists and is not empty \(use --force/);
    assert.deepEqual(readdirSync(taken), ["notes.txt"]);
    writeFileSync(join(work, "plain"), "");
    assertFails(kratos(work, home, "new", "plain"), 1, /exists and is not a folder/);
    const forced = kratos(work, home, "new", "taken", "--force");
    assert.equal(forced.status, 0, forced.stderr);
    assert.equal(readFileSync(join(taken, "notes.txt"), "utf8"), "mine");
    assert.ok(existsSync(join(taken, "cmd", "taken", "main.ts")));
    // No staging folder is left beside the targets.
    assert.deepEqual(
      readdirSync(work).filter((n) => n.startsWith(".")),
      [],
    );
  });

  it("needs a project for proto and run", () => {
    const outside = join(dir.path, "outside");
    mkdirSync(outside);
    assertFails(
      kratos(outside, home, "proto", "add", "api/x/v1/y.proto"),
      1,
      /not inside a kratos-ts project/,
    );
    assertFails(kratos(outside, home, "proto", "client", "."), 1, /not inside a kratos-ts project/);
    assertFails(kratos(outside, home, "run"), 1, /not inside a kratos-ts project/);
    assertFails(kratos(outside, home, "upgrade"), 1, /not inside a kratos-ts project/);
    assert.deepEqual(readdirSync(outside), []);
  });

  it("reports a clone failure and a missing git, leaving nothing behind", () => {
    const missing = join(dir.path, "no-such-repo.git");
    assertFails(
      kratos(work, home, "new", "cloned", "-r", missing, "-b", "main"),
      1,
      /cannot clone .*no-such-repo/,
    );
    assert.ok(!existsSync(join(work, "cloned")));
    const cache = join(home, ".kratos-ts", "layouts");
    assert.deepEqual(existsSync(cache) ? readdirSync(cache) : [], []);
    const noGit = spawnSync(
      process.execPath,
      [cli, "new", "nogit", "-r", "https://example.invalid/x.git"],
      {
        cwd: work,
        encoding: "utf8",
        env: { ...process.env, HOME: home, PATH: join(dir.path, "empty-path") },
      },
    );
    assertFails(
      { status: noGit.status, stdout: noGit.stdout, stderr: noGit.stderr },
      1,
      /git is not installed/,
    );
    assert.ok(!existsSync(join(work, "nogit")));
  });

  it("takes the layout from a git repository, cached and refreshed on reuse", () => {
    // A layout repository: the layout parts of this repo, committed to a fresh git repo.
    const repo = join(dir.path, "layout-repo");
    const made = kratos(dir.path, home, "new", "layout-repo");
    assert.equal(made.status, 0, made.stderr);
    // A layout repo keeps cmd/server: move the stamped cmd back to where a layout has it.
    const git = (...args: string[]) => {
      const r = run("git", ["-c", "user.name=t", "-c", "user.email=t@t", ...args], repo);
      assert.equal(r.status, 0, r.stderr);
    };
    git("init", "-q", "-b", "main");
    run("mv", ["cmd/layout-repo", "cmd/server"], repo);
    git("add", "-A");
    git("commit", "-qm", "layout");
    const first = kratos(work, home, "new", "fromgit", "-r", repo, "-b", "main");
    assert.equal(first.status, 0, first.stderr);
    assert.ok(existsSync(join(work, "fromgit", "cmd", "fromgit", "main.ts")));
    const cached = readdirSync(join(home, ".kratos-ts", "layouts"));
    assert.equal(cached.length, 1);
    // A change in the repository reaches the next project through the cache.
    writeFileSync(join(repo, "configs", "extra.yaml"), "extra: true\n");
    git("add", "-A");
    git("commit", "-qm", "extra");
    const second = kratos(work, home, "new", "fromgit2", "-r", repo, "-b", "main");
    assert.equal(second.status, 0, second.stderr);
    assert.ok(existsSync(join(work, "fromgit2", "configs", "extra.yaml")));
    assert.deepEqual(readdirSync(join(home, ".kratos-ts", "layouts")), cached);
  });

  it("refuses to overwrite a proto, and fails generation of a broken proto without writing", () => {
    const made = kratos(work, home, "new", "protos");
    assert.equal(made.status, 0, made.stderr);
    const project = join(work, "protos");
    const add = kratos(project, home, "proto", "add", "api/shop/v1/book.proto");
    assert.equal(add.status, 0, add.stderr);
    assertFails(
      kratos(project, home, "proto", "add", "api/shop/v1/book.proto"),
      1,
      /already exists/,
    );
    assertFails(
      kratos(project, home, "proto", "add", "api/Shop.proto"),
      1,
      /needs a package folder/,
    );
    mkdirSync(join(project, "api", "bad", "v1"), { recursive: true });
    writeFileSync(
      join(project, "api", "bad", "v1", "bad.proto"),
      'syntax = "proto3";\npackage bad.v1;\nmessage {\n',
    );
    const before = readdirSync(join(project, "internal", "service")).sort();
    assertFails(
      kratos(project, home, "proto", "server", "api/bad/v1/bad.proto", "-t", "internal/service"),
      1,
      /buf build failed: .*bad\.proto/,
    );
    assert.deepEqual(readdirSync(join(project, "internal", "service")).sort(), before);
    assertFails(
      kratos(project, home, "proto", "client", "api/bad/v1/bad.proto"),
      1,
      /buf generate failed/,
    );
    assert.deepEqual(readdirSync(join(project, "api", "bad", "v1")), ["bad.proto"]);
    assertFails(
      kratos(project, home, "proto", "server", "api/shop/v1/book.proto"),
      2,
      /missing -t <dir>/,
    );
    assertFails(
      kratos(project, home, "proto", "server", "api/none.proto", "-t", "x"),
      1,
      /does not exist/,
    );
  });

  it("asks which service to run when there are several, or takes the name", () => {
    const project = join(work, "protos");
    mkdirSync(join(project, "cmd", "other"));
    writeFileSync(join(project, "cmd", "other", "main.ts"), "");
    assertFails(kratos(project, home, "run"), 1, /several services \(other, protos\): name one/);
    assertFails(
      kratos(project, home, "run", "nope"),
      1,
      /no service "nope" in cmd\/ \(services: other, protos\)/,
    );
  });
});
