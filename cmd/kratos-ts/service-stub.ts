// The service class `kratos-ts proto server` writes for one proto service.
import type { DescMethod, DescService } from "@bufbuild/protobuf";

/** `BookShelf` -> `book-shelf.ts`. */
export function stubFileName(service: DescService): string {
  return (
    service.name
      .replace(/([a-z0-9])([A-Z])/g, "$1-$2")
      .replace(/([A-Z])([A-Z][a-z])/g, "$1-$2")
      .toLowerCase() + ".ts"
  );
}

/**
 * The text of a stub: an injectable class with every method of the service answering
 * UNIMPLEMENTED (501 over HTTP, UNIMPLEMENTED over gRPC), ready to register on both servers.
 */
export function serviceStub(service: DescService, pbImport: string): string {
  const unary = service.methods.filter((m) => m.methodKind === "unary");
  const types = [...new Set(unary.flatMap((m) => [m.input.name, m.output.name]))].sort();
  const lines = [
    `// ${service.typeName}: written by kratos-ts proto server. Fill in the methods.`,
    `import { injectable } from "inversify";`,
    `import type { Context } from "kratos-ts/context";`,
    `import { KratosError } from "kratos-ts/errors";`,
  ];
  if (types.length > 0) {
    lines.push(`import type { ${types.join(", ")} } from "${pbImport}";`);
  }
  lines.push(
    "",
    `/** ${service.typeName}. */`,
    "@injectable()",
    `export class ${service.name}Service {`,
    service.methods.map(method).join("\n\n"),
    "}",
    "",
    "function unimplemented(method: string): KratosError {",
    `  return new KratosError(501, "", \`method \${method} not implemented\`);`,
    "}",
    "",
  );
  return lines.join("\n");
}

function method(m: DescMethod): string {
  const name = m.localName;
  if (m.methodKind === "unary") {
    return [
      `  ${name}(_req: ${m.input.name}, _ctx: Context): Promise<${m.output.name}> {`,
      `    return Promise.reject(unimplemented("${m.name}"));`,
      "  }",
    ].join("\n");
  }
  // Streaming methods: the signature is the one server.register expects for the method kind.
  return [
    `  ${name}(_req: unknown, _ctx: Context): never {`,
    `    throw unimplemented("${m.name}");`,
    "  }",
  ].join("\n");
}
