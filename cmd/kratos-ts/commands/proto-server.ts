// `kratos-ts proto server <file> -t <dir>`: a service class per service of a proto, a test for
// it, and its entry in the app's service list, so the service is served with no hand edit.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { createFileRegistry, fromBinary } from "@bufbuild/protobuf";
import type { DescService } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { parseCommand } from "../args.js";
import { buf, messagesOut, moduleFile, splitTemplate, templateFor } from "../buf-workspace.js";
import type { ModuleFile } from "../buf-workspace.js";
import { CliError, usageError } from "../cli-error.js";
import type { Output } from "../output.js";
import { projectRoot } from "../project.js";
import { addToServiceList, serviceListMarker } from "../service-list.js";
import { serviceStub, serviceTest, stubFileName } from "../service-stub.js";

const serverSpec = {
  name: "proto server",
  options: { target: { type: "string", short: "t" } },
  positionals: [1, 1],
} as const;

const serverHelp = `Usage: kratos-ts proto server <file> -t <dir>

For every service of the proto (run proto client on it first):
  - <dir>/<service>.ts: an injectable class, every method answering UNIMPLEMENTED;
  - test/service/<service>.test.ts: a passing test of that, to extend as the methods grow;
  - an entry in internal/service/services.ts (serve(Service, Class, registerHTTP)): the layout
    binds every entry in the container and registers it on the HTTP and gRPC servers.
Existing files are kept, and a service already listed is not listed twice.
`;

/** The app's service list in a layout project. */
const serviceList = join("internal", "service", "services.ts");

/** Runs `kratos-ts proto server`. */
export function protoServer(args: readonly string[], out: Output): number {
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
  const source = moduleFile(root, path);
  const services = compiledServices(root, path, source);
  if (services.length === 0) throw new CliError(`${path} declares no service`);
  const dir = resolve(values.target);
  mkdirSync(dir, { recursive: true });
  // Where proto client writes the code of this file: the messages and the HTTP routes.
  const { limited } = splitTemplate(templateFor(root, source.module).text, source.module);
  const messages = messagesOut(limited ?? "", source.module);
  const generated = join(root, messages, source.name.replace(/\.proto$/, ""));
  const written: string[] = [];
  const write = (target: string, text: string) => {
    const shown = relative(process.cwd(), target);
    if (existsSync(target)) {
      out.stdout(`skipped ${shown} (exists)\n`);
      return;
    }
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, text, { flag: "wx" });
    written.push(target);
    out.stdout(`wrote ${shown}\n`);
  };
  for (const service of services) {
    const stub = join(dir, stubFileName(service));
    write(stub, serviceStub(service, importPath(dir, `${generated}_pb.js`)));
    const test = join(root, "test", "service", stubFileName(service).replace(/\.ts$/, ".test.ts"));
    write(
      test,
      serviceTest(service, {
        pb: importPath(dirname(test), `${generated}_pb.js`),
        stub: importPath(dirname(test), stub.replace(/\.ts$/, ".js")),
        descriptor: service.name,
      }),
    );
    const listed = listService(root, service, { stub, generated }, out);
    if (listed !== undefined) written.push(listed);
  }
  formatWritten(root, written);
  return 0;
}

/** Adds the service to the app's list; returns the list's path when it changed. */
function listService(
  root: string,
  service: DescService,
  files: { stub: string; generated: string },
  out: Output,
): string | undefined {
  const { stub, generated } = files;
  const list = join(root, serviceList);
  const shown = relative(process.cwd(), list);
  const http = `${generated}_http.ts`;
  const httpRegister = `register${service.name}HTTPServer`;
  const hasHttp =
    existsSync(http) && readFileSync(http, "utf8").includes(`function ${httpRegister}(`);
  const by = `${service.name}: server.register(${service.name}, impl)${hasHttp ? `, ${httpRegister}(server, impl)` : ""}`;
  if (!existsSync(list)) {
    out.stdout(`no ${serviceList}: register ${by} on your servers\n`);
    return undefined;
  }
  const added = addToServiceList(readFileSync(list, "utf8"), {
    descriptor: service.name,
    pbModule: importPath(dirname(list), `${generated}_pb.js`),
    impl: `${service.name}Service`,
    implModule: importPath(dirname(list), stub.replace(/\.ts$/, ".js")),
    httpRegister: hasHttp ? httpRegister : undefined,
    httpModule: importPath(dirname(list), `${generated}_http.js`),
    aliasPrefix: service.typeName
      .split(".")
      .slice(0, -1)
      .map((p) => p.charAt(0).toUpperCase() + p.slice(1))
      .join(""),
  });
  if ("skipped" in added) {
    const why = added.skipped.replace(serviceListMarker, "…");
    out.stdout(`kept ${shown} (${why})\n`);
    return undefined;
  }
  writeFileSync(list, added.text);
  out.stdout(`served ${service.typeName} in ${shown}\n`);
  return list;
}

/** An ESM import specifier from a folder to a file: `./x.js`, `../../api/a_pb.js`. */
function importPath(fromDir: string, file: string): string {
  const path = relative(fromDir, file).split("\\").join("/");
  return path.startsWith(".") ? path : `./${path}`;
}

/**
 * Formats what was written with the project's Prettier, when it has one, so its lint passes as
 * it is; without one the files stay as written.
 */
function formatWritten(root: string, files: string[]): void {
  const prettier = join(root, "node_modules", ".bin", "prettier");
  if (files.length === 0 || !existsSync(prettier)) return;
  spawnSync(prettier, ["--write", "--log-level", "warn", ...files], { cwd: root, stdio: "ignore" });
}

/** The services of a proto, compiled by buf (so a proto that does not compile is one error). */
function compiledServices(root: string, path: string, source: ModuleFile): DescService[] {
  const dir = mkdtempSync(join(tmpdir(), "kratos-ts-proto-"));
  try {
    const image = join(dir, "image.binpb");
    buf(root, ["build", "--path", path, "-o", image]);
    const set = fromBinary(FileDescriptorSetSchema, readFileSync(image));
    const file = createFileRegistry(set).getFile(source.name);
    if (file === undefined) throw new CliError(`buf did not compile ${path}`);
    return file.services;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
