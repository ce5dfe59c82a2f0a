// The README's "Use the kit in your own project", followed as a user would: pack the kit, write
// every file block of the section, as it is, into an empty folder, put the tarball where the
// section's package.json refers to it, and run the section's commands (npm install, buf generate,
// tsc, node). The program must print what the section says: its replies over HTTP and gRPC.
import assert from "node:assert/strict";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { repoRoot, run, tempDir } from "../helpers/repo.js";
import type { RunResult } from "../helpers/repo.js";

const heading = "## Use the kit in your own project";

/** The section's example: its files (```<lang> file=<path>), commands and printed output. */
interface Example {
  files: Map<string, string>;
  /** The lines of the ```sh steps block, comments dropped. */
  steps: string[];
  /** The ```text output block. */
  output: string;
}

function readmeExample(): Example {
  const readme = readFileSync(join(repoRoot, "README.md"), "utf8");
  const start = readme.indexOf(`\n${heading}\n`);
  assert.ok(start >= 0, `README has a section "${heading}"`);
  const end = readme.indexOf("\n## ", start + 1);
  const section = readme.slice(start, end < 0 ? undefined : end);
  const files = new Map(
    Array.from(
      section.matchAll(/^```\w+ file=(\S+)\n([\s\S]*?)^```$/gm),
      (m) => [m[1] ?? "", m[2] ?? ""] as const,
    ),
  );
  const block = (info: string): string => {
    const m = new RegExp(`^\`\`\`${info}\\n([\\s\\S]*?)^\`\`\`$`, "m").exec(section);
    assert.ok(m !== null, `the section has a \`\`\`${info} block`);
    return m[1] ?? "";
  };
  const steps = block("sh steps")
    .split("\n")
    .map((line) => line.replace(/#.*$/, "").trim())
    .filter((line) => line !== "");
  return { files, steps, output: block("text output") };
}

function ok(r: RunResult, what: string): RunResult {
  assert.equal(r.status, 0, `${what} failed:\n${r.stdout}\n${r.stderr}`);
  return r;
}

/**
 * Runs one command of the section in the project: npm as it is (installs only from the cache
 * when it can), `npx <tool>` as the project's own node_modules/.bin/<tool> (never a download),
 * node as this test's Node 24.
 */
function step(line: string, project: string): RunResult {
  const [command, ...args] = line.split(/\s+/);
  switch (command) {
    case "npm": {
      const flags = args[0] === "install" ? ["--prefer-offline", "--no-audit", "--no-fund"] : [];
      return ok(run("npm", [...args, ...flags], project), line);
    }
    case "npx": {
      const [tool = "", ...rest] = args;
      const bin = join(project, "node_modules", ".bin", tool);
      assert.ok(existsSync(bin), `${tool} is installed in the project (${line})`);
      return ok(run(bin, rest, project), line);
    }
    case "node":
      return ok(run(process.execPath, args, project), line);
    default:
      assert.fail(`the README's steps run npm, npx and node, not: ${line}`);
  }
}

describe("the README's library example, end to end", { timeout: 300_000 }, () => {
  const example = readmeExample();
  const dir = tempDir("kratos-ts-e2e-library-");
  const project = join(dir.path, "echo");

  before(() => {
    // The tarball `npm pack` makes in a clone (dist/ is already built by npm test).
    const packDir = join(dir.path, "pack");
    mkdirSync(packDir);
    ok(run("npm", ["pack", "--ignore-scripts", "--pack-destination", packDir]), "npm pack");
    const [tarball] = readdirSync(packDir);
    assert.ok(tarball !== undefined);
    for (const [path, text] of example.files) {
      mkdirSync(dirname(join(project, path)), { recursive: true });
      writeFileSync(join(project, path), text);
    }
    const manifest = JSON.parse(example.files.get("package.json") ?? "{}") as {
      dependencies?: Record<string, string>;
    };
    const kit = manifest.dependencies?.["kratos-ts"] ?? "";
    assert.match(kit, /^file:/, "package.json takes kratos-ts from a file: tarball");
    copyFileSync(join(packDir, tarball), join(project, kit.slice("file:".length)));
  });

  after(() => {
    dir.remove();
  });

  it("has a project to build: package.json, buf files, a proto, a program", () => {
    const paths = [...example.files.keys()];
    for (const path of ["package.json", "buf.yaml", "buf.gen.yaml", "tsconfig.json"]) {
      assert.ok(paths.includes(path), `the section has ${path}`);
    }
    assert.ok(paths.some((p) => p.endsWith(".proto")));
    assert.ok(paths.some((p) => p.endsWith(".ts")));
    assert.deepEqual(
      example.steps.map((line) => line.split(/\s+/).slice(0, 2).join(" ")),
      ["npm install", "npx buf", "npx tsc", "node dist/main.js"],
    );
  });

  const steps = example.steps.slice(0, -1);
  const program = example.steps.at(-1) ?? "";
  for (const line of steps) {
    it(`runs ${line}`, () => {
      step(line, project);
    });
  }

  it(`runs ${program}: replies over HTTP and gRPC, errors with their reasons`, () => {
    const r = step(program, project);
    assert.equal(r.stdout, example.output);
    assert.equal(
      r.stdout,
      ["http: hello", "grpc: hello", "http: 400 SHOUTING", "grpc: 400 VALIDATOR", ""].join("\n"),
    );
  });
});
