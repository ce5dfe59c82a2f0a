// `kratos-ts new <name>` renames the service everywhere (issue 21): a stamped project says
// `helloworld` only where it means the example API, helloworld.v1.Greeter, which every new
// project keeps as its first API. The scan covers every file the project gets, so a file added to
// the layout later is held to the same rule without a change here.
import assert from "node:assert/strict";
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, extname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import ts from "typescript";
import { runNew } from "../../cmd/kratos-ts/commands/new.js";
import { envPrefix } from "../../cmd/kratos-ts/layout.js";
import { repoRoot, tempDir } from "../helpers/repo.js";

/** The example API's own files: copied as they are, names and all. */
const apiFiles = "api/helloworld/v1/";

/**
 * Mentions of the example API outside its files, which stay: the proto package and the operation
 * names (`helloworld.v1`, `/helloworld.v1.Greeter/SayHello`), paths to the API files
 * (`../../api/helloworld/v1/greeter_pb.js`, `helloworld/v1/greeter.proto`), generated symbols
 * (`file_helloworld_v1_greeter`) and the HTTP route (`/helloworld/{name}`, `/helloworld/kratos`).
 */
const apiMentions = [/helloworld[./_]v\d/g, /\/helloworld\//g];

/** What names the layout's service, and must not survive the rename in any form. */
const serviceMention = /helloworld|cmd\/server(?![\w-])/i;

/** Every file under `dir`, dot files included, as paths relative to it with `/` separators. */
function listFiles(dir: string, prefix = ""): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((entry) => {
      const path = prefix + entry.name;
      if (entry.isDirectory()) return listFiles(join(dir, entry.name), `${path}/`);
      return entry.isFile() ? [path] : [];
    });
}

/** A file's text, or undefined for a binary file (a NUL byte, or not UTF-8). */
function readText(path: string): string | undefined {
  const bytes = readFileSync(path);
  if (bytes.includes(0)) return undefined;
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

/** `file:line: text` of every mention of the layout's service left in the project. */
function leftovers(project: string, files: readonly string[]): string[] {
  const found: string[] = [];
  for (const file of files) {
    // A path is held to the rule too: a file or folder named after the service must be renamed.
    const pathLeft = apiMentions.reduce((p, re) => p.replace(re, "<api>"), file);
    if (!file.startsWith(apiFiles) && serviceMention.test(pathLeft)) {
      found.push(`${file}: (the path itself)`);
    }
    if (file.startsWith(apiFiles)) continue;
    const text = readText(join(project, file));
    if (text === undefined) continue;
    text.split("\n").forEach((line, i) => {
      const left = apiMentions.reduce((l, re) => l.replace(re, "<api>"), line);
      if (serviceMention.test(left)) found.push(`${file}:${String(i + 1)}: ${line.trim()}`);
    });
  }
  return found;
}

/**
 * Mentions of the new name that landed in code rather than in a string or a comment: `user-svc`
 * there would read as a subtraction, so the layout never uses the service name as code.
 */
function nameInCode(project: string, files: readonly string[], name: string): string[] {
  const scripts = new Set([".ts", ".mts", ".cts", ".js", ".mjs", ".cjs"]);
  const forms = [
    new RegExp(`(?<![\\w$])${name}(?![\\w$])`, "g"),
    new RegExp(`(?<![\\w$])${envPrefix(name)}`, "g"),
  ];
  const found: string[] = [];
  for (const file of files) {
    if (!scripts.has(extname(file))) continue;
    const text = readFileSync(join(project, file), "utf8");
    const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
    // The spans of code tokens: everything but comments (trivia, JSDoc) and literals.
    const code: [number, number][] = [];
    const visit = (node: ts.Node): void => {
      if (
        node.kind === ts.SyntaxKind.JSDoc ||
        ts.isStringLiteralLike(node) ||
        ts.isTemplateLiteralToken(node) ||
        ts.isRegularExpressionLiteral(node)
      ) {
        return;
      }
      const children = node.getChildren(source);
      if (children.length === 0) code.push([node.getStart(source), node.end]);
      else children.forEach(visit);
    };
    visit(source);
    for (const form of forms) {
      for (const match of text.matchAll(form)) {
        const start = match.index;
        const end = start + match[0].length;
        if (code.some(([s, e]) => start < e && end > s)) {
          const { line } = source.getLineAndCharacterOfPosition(start);
          found.push(`${file}:${String(line + 1)}: ${(text.split("\n")[line] ?? "").trim()}`);
        }
      }
    }
  }
  return found;
}

for (const name of ["shop", "user-svc"]) {
  describe(`kratos-ts new ${name}: the service is renamed everywhere`, () => {
    const dir = tempDir("kratos-ts-rename-");
    const project = join(dir.path, name);
    let files: string[] = [];
    const prefix = envPrefix(name);
    const read = (path: string) => readFileSync(join(project, path), "utf8");

    before(() => {
      const output: string[] = [];
      const code = runNew([project, "--kit", "0.1.0"], {
        stdout: (text) => {
          output.push(text);
        },
        stderr: (line) => {
          output.push(line);
        },
      });
      assert.equal(code, 0, output.join("\n"));
      files = listFiles(project);
    });
    after(() => {
      dir.remove();
    });

    it("leaves helloworld only where it names the example API", () => {
      assert.ok(files.length > 20, `only ${String(files.length)} files: ${files.join(", ")}`);
      const found = leftovers(project, files);
      assert.deepEqual(
        found,
        [],
        `the layout's service name is left in ${String(found.length)} places:\n` + found.join("\n"),
      );
    });

    it("copies the example API as it is", () => {
      const api = files.filter((f) => f.startsWith("api/"));
      assert.ok(
        api.some((f) => f.startsWith(apiFiles)),
        api.join(", "),
      );
      for (const file of api) {
        assert.ok(
          readFileSync(join(project, file)).equals(readFileSync(join(repoRoot, file))),
          `${file} differs from the layout's`,
        );
      }
    });

    it(`uses ${name} as the app name, entry folder, env prefix ${prefix} and database file`, () => {
      assert.ok(statSync(join(project, "cmd", name, "main.ts")).isFile());
      const main = read(`cmd/${name}/main.ts`);
      assert.match(main, new RegExp(`const name = "${name}";`));
      assert.match(main, new RegExp(`const envPrefix = "${prefix}";`));
      const config = read("configs/config.yaml");
      assert.match(config, new RegExp(`${prefix}SERVER__HTTP__ADDR=`));
      assert.match(config, new RegExp(`source: \\./data/${name}\\.db`));
      assert.match(read("configs/README.md"), new RegExp(`\`${prefix}SERVER__HTTP__ADDR\``));
      assert.match(read("internal/README.md"), new RegExp(`\`cmd/${name}\``));
    });

    it("puts the new name only in strings and comments, never in code", () => {
      const found = nameInCode(project, files, name);
      assert.deepEqual(found, [], `${name} lands in code:\n${found.join("\n")}`);
    });
  });
}

describe("kratos-ts new: files of any kind in a layout are renamed", () => {
  const dir = tempDir("kratos-ts-rename-any-");
  after(() => {
    dir.remove();
  });

  it("renames scripts and dot files by content, keeps binary files and file modes", () => {
    // A layout repository (-r) with files the bundled layout does not have.
    const layout = join(dir.path, "layout");
    const write = (path: string, content: string | Buffer, mode = 0o644) => {
      mkdirSync(dirname(join(layout, path)), { recursive: true });
      writeFileSync(join(layout, path), content, { mode });
    };
    write("cmd/server/main.ts", 'const name = "helloworld";\n');
    write("cmd/server/start.sh", "#!/bin/sh\nexec node dist/cmd/server/main.js\n", 0o755);
    write("configs/.env.example", "HELLOWORLD_SERVER__HTTP__ADDR=0.0.0.0:8000\n");
    const binary = Buffer.from([0x89, 0x50, 0x00, 0x68, 0x65, 0x6c, 0x6c, 0x6f, 0xff]);
    write("configs/logo.bin", binary);
    const project = join(dir.path, "user-svc");
    const code = runNew([project, "-r", layout, "--kit", "0.1.0"], {
      stdout: () => undefined,
      stderr: () => undefined,
    });
    assert.equal(code, 0);
    const read = (path: string) => readFileSync(join(project, path), "utf8");
    assert.equal(read("cmd/user-svc/main.ts"), 'const name = "user-svc";\n');
    assert.equal(read("cmd/user-svc/start.sh"), "#!/bin/sh\nexec node dist/cmd/user-svc/main.js\n");
    // The same mode as the layout's file (0o755 less the umask), executable still.
    const mode = statSync(join(project, "cmd/user-svc/start.sh")).mode & 0o777;
    assert.equal(mode, statSync(join(layout, "cmd/server/start.sh")).mode & 0o777);
    assert.ok((mode & 0o100) !== 0, mode.toString(8));
    assert.equal(read("configs/.env.example"), "USER_SVC_SERVER__HTTP__ADDR=0.0.0.0:8000\n");
    assert.ok(readFileSync(join(project, "configs/logo.bin")).equals(binary));
    // The package.json's build runs the bundle script, which this layout lacks: the kit's.
    assert.equal(
      read("scripts/bundle-service.mjs"),
      readFileSync(join(repoRoot, "scripts/bundle-service.mjs"), "utf8"),
    );
  });
});
