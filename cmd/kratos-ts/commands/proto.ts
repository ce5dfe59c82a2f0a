// `kratos-ts proto add|client|server`: write a proto, generate its code, write service stubs.
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, relative, resolve } from "node:path";
import { parseCommand } from "../args.js";
import { buf, moduleFile, splitTemplate, templateFor } from "../buf-workspace.js";
import { CliError, usageError } from "../cli-error.js";
import type { Output } from "../output.js";
import { projectRoot } from "../project.js";
import { protoNames, protoTemplate } from "../proto-template.js";
import { protoServer } from "./proto-server.js";

export const protoHelp = `Usage: kratos-ts proto <command> [options]

Commands:
  add <api/x/v1/y.proto>     write a CRUD proto template (package from the path below its buf
                             module, service from the file name, Create/Update/Delete/Get/List
                             with HTTP bindings)
  client <file|dir>          generate the code of protos (buf generate with the project's
                             buf.gen.yaml, limited to the given path)
  server <file> -t <dir>     write a service class per service of a proto into <dir>, each
                             method answering UNIMPLEMENTED, with a test, and serve it (an entry
                             in internal/service/services.ts); existing files are kept

Run inside a project made by kratos-ts new; the module roots come from its buf.yaml.
kratos-ts proto <command> --help for more.
`;

const addSpec = { name: "proto add", options: {}, positionals: [1, 1] } as const;
const clientSpec = { name: "proto client", options: {}, positionals: [1, 1] } as const;

const addHelp = `Usage: kratos-ts proto add <api/x/v1/y.proto>

Writes a CRUD proto template: package x.v1 (the folders below the file's module root in
buf.yaml), service Y with Create/Update/Delete/Get/List and their HTTP bindings. Refuses to
overwrite an existing file.
`;
const clientHelp = `Usage: kratos-ts proto client <file|dir>

Runs the project's generators on the given proto file or folder: the buf.gen*.yaml template
whose inputs hold its module (buf.gen.yaml when none does). The code is written next to the
protos of the module, as for the template's own input.
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
  const { module } = moduleFile(root, relative(root, file));
  const names = protoNames(relative(root, file), module);
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
  const path = relative(root, target) || ".";
  const { module } = moduleFile(root, path === "." ? "" : `${path}/`);
  // The OpenAPI document covers every API of a run: its plugin runs once over all of them, the
  // others only over the given path (a limited run of it would write a document of that path).
  const { limited, whole } = splitTemplate(templateFor(root, module).text, module);
  if (limited !== undefined) buf(root, ["generate", "--template", limited, "--path", path]);
  if (whole !== undefined) buf(root, ["generate", "--template", whole]);
  out.stdout(`generated ${path}\n`);
  return 0;
}
