// `kratos-ts proto add|client|server`: write a proto, generate its code, write service stubs.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { createFileRegistry, fromBinary } from "@bufbuild/protobuf";
import type { DescService } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { parse } from "yaml";
import { parseCommand } from "../args.js";
import { CliError, usageError } from "../cli-error.js";
import type { Output } from "../output.js";
import { projectRoot } from "../project.js";
import { protoNames, protoTemplate } from "../proto-template.js";
import { serviceStub, stubFileName } from "../service-stub.js";

export const protoHelp = `Usage: kratos-ts proto <command> [options]

Commands:
  add <api/x/v1/y.proto>     write a CRUD proto template (package from the path, service from
                             the file name, Create/Update/Delete/Get/List with HTTP bindings)
  client <file|dir>          generate the code of protos (buf generate with the project's
                             buf.gen.yaml, limited to the given path)
  server <file> -t <dir>     write a service class per service of a proto into <dir>, each
                             method answering UNIMPLEMENTED; existing files are kept

Run inside a project made by kratos-ts new. kratos-ts proto <command> --help for more.
`;

const addSpec = { name: "proto add", options: {}, positionals: [1, 1] } as const;
const clientSpec = { name: "proto client", options: {}, positionals: [1, 1] } as const;
const serverSpec = {
  name: "proto server",
  options: { target: { type: "string", short: "t" } },
  positionals: [1, 1],
} as const;

const addHelp = `Usage: kratos-ts proto add <api/x/v1/y.proto>

Writes a CRUD proto template: package x.v1, service Y with Create/Update/Delete/Get/List and
their HTTP bindings. Refuses to overwrite an existing file.
`;
const clientHelp = `Usage: kratos-ts proto client <file|dir>

Runs the project's generators (buf generate with buf.gen.yaml; buf.gen.conf.yaml for files under
internal/) on the given proto file or folder.
`;
const serverHelp = `Usage: kratos-ts proto server <file> -t <dir>

Writes one injectable service class per service of the proto into <dir> (for example
internal/service), every method answering UNIMPLEMENTED. Existing files are skipped.
`;

/** Runs `kratos-ts proto ...`. */
export function runProto(args: readonly string[], out: Output): number {
  const [command, ...rest] = args;
  switch (command) {
    case undefined:
    case "-h":
    case "--help":
      out.stdout(protoHelp);
      return command === undefined ? 2 : 0;
    case "add":
      return protoAdd(rest, out);
    case "client":
      return protoClient(rest, out);
    case "server":
      return protoServer(rest, out);
    default:
      throw usageError(`unknown proto command "${command}"`, "proto");
  }
}

function protoAdd(args: readonly string[], out: Output): number {
  const { positionals, help } = parseCommand(addSpec, args);
  if (help) {
    out.stdout(addHelp);
    return 0;
  }
  const root = projectRoot();
  const file = resolve(positionals[0] ?? "");
  const names = protoNames(relative(root, file));
  if ("error" in names) throw new CliError(names.error);
  if (existsSync(file)) throw new CliError(`${relative(process.cwd(), file)} already exists`);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, protoTemplate(names), { flag: "wx" });
  out.stdout(`wrote ${relative(process.cwd(), file)} (service ${names.pkg}.${names.service})\n`);
  return 0;
}

function protoClient(args: readonly string[], out: Output): number {
  const { positionals, help } = parseCommand(clientSpec, args);
  if (help) {
    out.stdout(clientHelp);
    return 0;
  }
  const root = projectRoot();
  const target = resolve(positionals[0] ?? "");
  if (!existsSync(target)) throw new CliError(`${positionals[0] ?? ""} does not exist`);
  const path = relative(root, target);
  const template = path.startsWith("internal/") ? "buf.gen.conf.yaml" : "buf.gen.yaml";
  // The OpenAPI document covers every API of a run: its plugin runs once over all of them, the
  // others only over the given path (a limited run of it would write a document of that path).
  const { limited, whole } = splitTemplate(readFileSync(join(root, template), "utf8"));
  if (limited !== undefined) buf(root, ["generate", "--template", limited, "--path", path]);
  if (whole !== undefined) buf(root, ["generate", "--template", whole]);
  out.stdout(`generated ${path}\n`);
  return 0;
}

function protoServer(args: readonly string[], out: Output): number {
  const { values, positionals, help } = parseCommand(serverSpec, args);
  if (help) {
    out.stdout(serverHelp);
    return 0;
  }
  if (values.target === undefined) throw usageError("missing -t <dir>", "proto server");
  const root = projectRoot();
  const file = resolve(positionals[0] ?? "");
  if (!existsSync(file)) throw new CliError(`${positionals[0] ?? ""} does not exist`);
  const path = relative(root, file);
  // buf resolves names relative to the module root (api/): the file as the registry knows it.
  const moduleName = path.startsWith("api/") ? path.slice("api/".length) : path;
  const services = compiledServices(root, path, moduleName);
  if (services.length === 0) throw new CliError(`${path} declares no service`);
  const dir = resolve(values.target);
  mkdirSync(dir, { recursive: true });
  const generated = join(root, "api", moduleName.replace(/\.proto$/, "_pb.js"));
  let importPath = relative(dir, generated);
  if (!importPath.startsWith(".")) importPath = `./${importPath}`;
  for (const service of services) {
    const target = join(dir, stubFileName(service));
    const shown = relative(process.cwd(), target);
    if (existsSync(target)) {
      out.stdout(`skipped ${shown} (exists)\n`);
      continue;
    }
    writeFileSync(target, serviceStub(service, importPath), { flag: "wx" });
    out.stdout(`wrote ${shown}\n`);
  }
  return 0;
}

/**
 * A buf.gen template split in two (as JSON): the plugins that may run on a part of the files, and
 * those that must see every file of a run (the OpenAPI document); a side without plugins is
 * undefined.
 */
export function splitTemplate(templateText: string): {
  limited: string | undefined;
  whole: string | undefined;
} {
  const template = (parse(templateText) ?? {}) as { plugins?: { local?: unknown }[] };
  const plugins = template.plugins ?? [];
  const wholeRun = (p: { local?: unknown }) =>
    JSON.stringify(p.local ?? "").includes("protoc-gen-kratos-openapi");
  const part = (list: { local?: unknown }[]) =>
    list.length === 0 ? undefined : JSON.stringify({ ...template, plugins: list });
  return {
    limited: part(plugins.filter((p) => !wholeRun(p))),
    whole: part(plugins.filter(wholeRun)),
  };
}

/** The services of a proto, compiled by buf (so a proto that does not compile is one error). */
function compiledServices(root: string, path: string, moduleName: string): DescService[] {
  const dir = mkdtempSync(join(tmpdir(), "kratos-ts-proto-"));
  try {
    const image = join(dir, "image.binpb");
    buf(root, ["build", "--path", path, "-o", image]);
    const set = fromBinary(FileDescriptorSetSchema, readFileSync(image));
    const file = createFileRegistry(set).getFile(moduleName);
    if (file === undefined) throw new CliError(`buf did not compile ${path}`);
    return file.services;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs the project's buf; a failure is one line (buf's first error). */
function buf(root: string, args: string[]): void {
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
