import type { DescMethod, DescService } from "@bufbuild/protobuf";
import { createEcmaScriptPlugin } from "@bufbuild/protoplugin";
import type { GeneratedFile, Schema } from "@bufbuild/protoplugin";
import { packageVersion } from "../../src/internal/package-version.js";
import { annotatedMethods, operationOf } from "../internal/http-bindings.js";
import type { Annotated, Binding } from "../internal/http-bindings.js";

/**
 * protoc-gen-kratos-http: for every service with `google.api.http` rules, writes
 * `<file>_http.ts` with operation constants, the server interface, `register<Svc>HTTPServer`
 * and a typed HTTP client, as Kratos's protoc-gen-go-http does for Go.
 */
export const protocGenKratosHttp = createEcmaScriptPlugin({
  name: "protoc-gen-kratos-http",
  version: `v${packageVersion()}`,
  generateTs,
});

/** Where generated code imports the kit from. */
const kit = {
  context: "kratos-ts/context",
  http: "kratos-ts/transport/http",
};

function generateTs(schema: Schema): void {
  for (const file of schema.files) {
    const services = file.services
      .map((service) => ({ service, methods: annotatedMethods(service) }))
      .filter((s) => s.methods.length > 0);
    if (services.length === 0) continue;
    const f = schema.generateFile(`${file.name}_http.ts`);
    f.preamble(file);
    for (const { service, methods } of services) printService(f, service, methods);
  }
}

function operationConst(service: DescService, method: DescMethod): string {
  return `Operation${service.name}${method.name}`;
}

function printService(f: GeneratedFile, service: DescService, methods: Annotated[]): void {
  const Context = f.import("Context", kit.context, true);
  const HttpServer = f.import("HttpServer", kit.http, true);
  const HttpClient = f.import("HttpClient", kit.http, true);
  const CallOptions = f.import("CallOptions", kit.http, true);
  const MessageInitShape = f.import("MessageInitShape", "@bufbuild/protobuf", true);

  for (const { method } of methods) {
    f.print(f.jsDoc(`The operation of rpc ${method.parent.typeName}.${method.name}.`));
    f.print(
      f.export("const", operationConst(service, method)),
      " = ",
      f.string(operationOf(method)),
      ";",
    );
    f.print();
  }

  const ClientRoute = f.import("ClientRoute", kit.http, true);
  for (const { method, bindings } of methods) {
    f.print(
      f.jsDoc(
        `The HTTP bindings of rpc ${method.parent.typeName}.${method.name}, the primary one first.`,
      ),
    );
    f.print(f.export("const", routesConst(service, method)), " = [");
    for (const b of bindings) {
      f.print("  {");
      printBinding(f, b, service, method);
      f.print("  },");
    }
    f.print("] as const satisfies readonly ", ClientRoute, "[];");
    f.print();
  }

  f.print(f.jsDoc(`The methods of ${service.typeName} that have HTTP bindings.`));
  f.print(f.export("interface", `${service.name}HTTPServer`), " {");
  for (const { method } of methods) {
    f.print(f.jsDoc(method, "  "));
    f.print(
      "  ",
      method.localName,
      "(req: ",
      f.importShape(method.input),
      ", ctx: ",
      Context,
      "): Promise<",
      f.importShape(method.output),
      " | ",
      MessageInitShape,
      "<typeof ",
      f.importSchema(method.output),
      ">>;",
    );
  }
  f.print("}");
  f.print();

  f.print(f.jsDoc(`Registers every HTTP binding of ${service.typeName} on \`server\`.`));
  f.print(
    f.export("function", `register${service.name}HTTPServer`),
    "(server: ",
    HttpServer,
    ", impl: ",
    service.name,
    "HTTPServer): void {",
  );
  for (const { method } of methods) {
    f.print("  for (const route of ", routesConst(service, method), ") {");
    f.print(
      "    server.route({ ...route, handler: (req, ctx) => impl.",
      method.localName,
      "(req, ctx) });",
    );
    f.print("  }");
  }
  f.print("}");
  f.print();

  f.print(
    f.jsDoc(`A typed HTTP client of ${service.typeName} (each method uses its primary binding).`),
  );
  f.print(f.export("interface", `${service.name}HTTPClient`), " {");
  for (const { method } of methods) {
    f.print(f.jsDoc(method, "  "));
    f.print(
      "  ",
      method.localName,
      "(req: ",
      MessageInitShape,
      "<typeof ",
      f.importSchema(method.input),
      ">, options?: ",
      CallOptions,
      "): Promise<",
      f.importShape(method.output),
      ">;",
    );
  }
  f.print("}");
  f.print();

  f.print(f.jsDoc(`Creates the typed HTTP client of ${service.typeName} over \`client\`.`));
  f.print(
    f.export("function", `create${service.name}HTTPClient`),
    "(client: ",
    HttpClient,
    "): ",
    service.name,
    "HTTPClient {",
  );
  f.print("  return {");
  for (const { method } of methods) {
    f.print(
      "    ",
      method.localName,
      ": (req, options) => client.invoke(",
      routesConst(service, method),
      "[0], req, options),",
    );
  }
  f.print("  };");
  f.print("}");
  f.print();
}

function routesConst(service: DescService, method: DescMethod): string {
  return `${service.name}${method.name}HTTPRoutes`;
}

function printBinding(
  f: GeneratedFile,
  b: Binding,
  service: DescService,
  method: DescMethod,
  indent = "    ",
): void {
  f.print(indent, "method: ", f.string(b.method), ",");
  f.print(indent, "path: ", f.string(b.path), ",");
  f.print(indent, "operation: ", operationConst(service, method), ",");
  f.print(indent, "input: ", f.importSchema(method.input), ",");
  f.print(indent, "output: ", f.importSchema(method.output), ",");
  if (b.body !== "") f.print(indent, "body: ", f.string(b.body), ",");
  if (b.responseBody !== "") f.print(indent, "responseBody: ", f.string(b.responseBody), ",");
}
