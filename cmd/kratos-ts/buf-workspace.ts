// The buf workspace of a project: its module roots (buf.yaml), its generation templates
// (buf.gen*.yaml) and running its buf. buf names a file by its path below its module root, and
// writes its code to a plugin's `out` under that same path.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, posix } from "node:path";
import { parse } from "yaml";
import { CliError } from "./cli-error.js";

/** A proto file as buf sees it. */
export interface ModuleFile {
  /** The module root, relative to the project (`api`, or `.` for a single-module workspace). */
  module: string;
  /** The file's path below the module root: `shop/v1/book.proto`. */
  name: string;
}

/** The module roots buf.yaml declares (v2 `modules[].path`); `.` when it declares none. */
export function bufModules(root: string): string[] {
  const file = join(root, "buf.yaml");
  if (!existsSync(file)) return ["."];
  const config = (parse(readFileSync(file, "utf8")) ?? {}) as { modules?: { path?: unknown }[] };
  const paths = (config.modules ?? [])
    .map((m) => m.path)
    .filter((p): p is string => typeof p === "string")
    .map((p) => posix.normalize(p).replace(/\/$/, ""));
  return paths.length === 0 ? ["."] : paths;
}

/**
 * The module of a project-relative proto path: the deepest module root that contains it. A path
 * outside every module is one error naming the modules.
 */
export function moduleFile(root: string, path: string): ModuleFile {
  const normalized = posix.normalize(path.replaceAll("\\", "/"));
  const modules = bufModules(root);
  const found = modules
    .filter((m) => m === "." || normalized.startsWith(`${m}/`))
    .sort((a, b) => b.length - a.length)[0];
  if (found === undefined) {
    throw new CliError(
      `${path} is in no module of buf.yaml (modules: ${modules.join(", ")}); add its folder there`,
    );
  }
  return { module: found, name: found === "." ? normalized : normalized.slice(found.length + 1) };
}

/**
 * The folder (relative to the project) where a template's protoc-gen-es writes messages; the
 * module root itself when the template has no such plugin.
 */
export function messagesOut(templateText: string, module: string): string {
  const es = (parseTemplate(templateText).plugins ?? []).find((p) =>
    JSON.stringify(p.local ?? "").includes("protoc-gen-es"),
  );
  return typeof es?.out === "string" ? es.out : module;
}

/** A buf.gen template of the project. */
export interface Template {
  file: string;
  text: string;
}

/** The template that generates a module: the buf.gen*.yaml whose inputs name it, else buf.gen.yaml. */
export function templateFor(root: string, module: string): Template {
  const files = readdirSync(root)
    .filter((f) => /^buf\.gen.*\.ya?ml$/.test(f))
    .sort();
  const read = (file: string) => ({ file, text: readFileSync(join(root, file), "utf8") });
  for (const file of files) {
    const template = read(file);
    if (inputDirs(parseTemplate(template.text)).includes(module)) return template;
  }
  if (!files.includes("buf.gen.yaml")) throw new CliError(`no buf.gen.yaml in ${root}`);
  return read("buf.gen.yaml");
}

interface TemplatePlugin {
  local?: unknown;
  out?: unknown;
}

interface ParsedTemplate {
  inputs?: { directory?: unknown }[];
  plugins?: TemplatePlugin[];
}

function parseTemplate(text: string): ParsedTemplate {
  return (parse(text) ?? {}) as ParsedTemplate;
}

function inputDirs(template: ParsedTemplate): string[] {
  return (template.inputs ?? [])
    .map((i) => i.directory)
    .filter((d): d is string => typeof d === "string");
}

/**
 * A buf.gen template split in two (as JSON) for a file of `module`: the plugins that may run on
 * a part of the files, with the module as their input and, where they wrote to the template's
 * own input folder, the module's folder as their output (code lives next to its protos); and
 * those that must see every file of a run (the OpenAPI document), with the module added to
 * their inputs. A side without plugins is undefined.
 */
export function splitTemplate(
  templateText: string,
  module?: string,
): { limited: string | undefined; whole: string | undefined } {
  const template = parseTemplate(templateText);
  const plugins = template.plugins ?? [];
  const inputs = inputDirs(template);
  const wholeRun = (p: TemplatePlugin) =>
    JSON.stringify(p.local ?? "").includes("protoc-gen-kratos-openapi");
  const retarget = (p: TemplatePlugin) =>
    module !== undefined && inputs[0] !== undefined && p.out === inputs[0]
      ? { ...p, out: module }
      : p;
  const limited = plugins.filter((p) => !wholeRun(p)).map(retarget);
  const whole = plugins.filter(wholeRun);
  const onModule = module === undefined ? {} : { inputs: [{ directory: module }] };
  const withModule =
    module === undefined || inputs.includes(module)
      ? {}
      : { inputs: [...(template.inputs ?? []), { directory: module }] };
  return {
    limited:
      limited.length === 0
        ? undefined
        : JSON.stringify({ ...template, ...onModule, plugins: limited }),
    whole:
      whole.length === 0
        ? undefined
        : JSON.stringify({ ...template, ...withModule, plugins: whole }),
  };
}

/** Runs the project's buf; a failure is one line (buf's first error). */
export function buf(root: string, args: string[]): void {
  const local = join(root, "node_modules", ".bin", "buf");
  const command = existsSync(local) ? local : "buf";
  // Plugins are node scripts: the project's Node (node_modules/.bin/node) must come first.
  const path = `${join(root, "node_modules", ".bin")}:${process.env.PATH ?? ""}`;
  const r = spawnSync(command, args, {
    cwd: root,
    encoding: "utf8",
    env: { ...process.env, PATH: path },
  });
  if (r.error !== undefined) {
    throw new CliError(`cannot run buf (${r.error.message}); run npm install in the project`);
  }
  if (r.status !== 0) {
    const first = r.stderr.trim().split("\n")[0] ?? "";
    throw new CliError(`buf ${args[0] ?? ""} failed: ${first}`);
  }
}
