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

/**
 * The text of the stub's test: every method answers UNIMPLEMENTED (code 501), the behaviour of
 * the stub. Its author replaces each check with what the method does once it is written. Requests
 * are made from the service descriptor, so any request type works, nested or imported.
 */
export function serviceTest(
  service: DescService,
  imports: { pb: string; stub: string; descriptor: string },
): string {
  const impl = `${service.name}Service`;
  const check = (m: DescMethod) => {
    const request = `create(${imports.descriptor}.method.${m.localName}.input)`;
    const body =
      m.methodKind === "unary"
        ? `    await assert.rejects(service.${m.localName}(${request}, createContext()), { code: 501 });`
        : `    assert.throws(() => service.${m.localName}(undefined, createContext()), { code: 501 });`;
    const fn = m.methodKind === "unary" ? "async () =>" : "() =>";
    return [`  it("${m.name} is not implemented yet", ${fn} {`, body, "  });"].join("\n");
  };
  const usesCreate = service.methods.some((m) => m.methodKind === "unary");
  const lines = [
    `// ${service.typeName}: written by kratos-ts proto server with ${impl}. Replace each check`,
    "// with what the method does once it is written.",
    'import "reflect-metadata";',
    'import assert from "node:assert/strict";',
    'import { describe, it } from "node:test";',
    ...(usesCreate ? ['import { create } from "@bufbuild/protobuf";'] : []),
    'import { createContext } from "kratos-ts/context";',
    ...(usesCreate ? [`import { ${imports.descriptor} } from "${imports.pb}";`] : []),
    `import { ${impl} } from "${imports.stub}";`,
    "",
    `describe("${service.typeName}", () => {`,
    `  const service = new ${impl}();`,
    "",
    service.methods.map(check).join("\n\n"),
    "});",
    "",
  ];
  return lines.join("\n");
}
