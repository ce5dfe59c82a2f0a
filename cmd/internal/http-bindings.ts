// The google.api.http bindings of a proto's methods, read and checked the way the HTTP server
// will serve them (compileRoute). protoc-gen-kratos-http and protoc-gen-kratos-openapi both read
// bindings here, so the routes and the document never disagree.
import { getOption, hasOption } from "@bufbuild/protobuf";
import type { DescMethod, DescService } from "@bufbuild/protobuf";
import { MethodDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { METHODS } from "node:http";
import { http as httpOption } from "../../src/gen/google/api/annotations_pb.js";
import type { HttpRule } from "../../src/gen/google/api/http_pb.js";
import { compileRoute, RouteError } from "../../src/http-rule/compile.js";
import type { CompiledRoute } from "../../src/http-rule/compile.js";
import { flatten, parsePathTemplate } from "../../src/http-rule/path-template.js";
import { GeneratorError } from "./source-location.js";

/** One binding of a method: the primary rule or one of its additional bindings. */
export interface Binding {
  method: string;
  path: string;
  body: string;
  responseBody: string;
}

export interface Annotated {
  method: DescMethod;
  bindings: Binding[];
}

/**
 * The methods of a service that have HTTP rules, with their checked bindings. Two bindings the
 * router cannot tell apart (same HTTP method and path shape, variable names aside) fail here:
 * `register<Svc>HTTPServer` would otherwise throw on them when the service starts.
 */
export function annotatedMethods(service: DescService): Annotated[] {
  const result: Annotated[] = [];
  const routes = new Map<string, string>();
  for (const method of service.methods) {
    if (!hasOption(method, httpOption)) continue;
    if (method.methodKind !== "unary") {
      throw new GeneratorError(
        method,
        `rpc ${method.parent.typeName}.${method.name}: google.api.http bindings need a unary method`,
        httpOptionPath(),
      );
    }
    const rule = getOption(method, httpOption);
    const bindings = [rule, ...rule.additionalBindings].map((r, i) => {
      const binding = bindingOf(method, r, i === 0 ? undefined : i - 1);
      const where = bindingName(method, i === 0 ? undefined : i - 1);
      const shape = routeShape(binding);
      const taken = routes.get(shape);
      if (taken !== undefined) {
        throw new GeneratorError(
          method,
          `${where}: ${binding.method} ${binding.path} is the same route as ${taken}; the server cannot tell them apart`,
          httpOptionPath(),
        );
      }
      routes.set(shape, `${where} (${binding.method} ${binding.path})`);
      return binding;
    });
    result.push({ method, bindings });
  }
  return result;
}

function httpOptionPath(): number[] {
  return [MethodDescriptorProtoSchema.field.options.number, httpOption.number];
}

const nodeMethods = new Set(METHODS);

/** `rpc pkg.Svc.Method`, and which additional binding, for messages. */
export function bindingName(method: DescMethod, additional: number | undefined): string {
  return `rpc ${method.parent.typeName}.${method.name}${additional === undefined ? "" : ` (additional_bindings[${additional}])`}`;
}

/** What the router matches a binding by: the method and the path with variables unnamed. */
function routeShape(binding: Binding): string {
  const template = parsePathTemplate(binding.path);
  const segments = flatten(template.parts).map((s) =>
    s.kind === "literal" ? s.value : s.kind === "single" ? "*" : "**",
  );
  return `${binding.method} /${segments.join("/")}${template.verb === undefined ? "" : `:${template.verb}`}`;
}

/** Reads one HttpRule and checks it exactly as the server will (compileRoute). */
function bindingOf(method: DescMethod, rule: HttpRule, additional: number | undefined): Binding {
  const where = bindingName(method, additional);
  const fail = (message: string): never => {
    throw new GeneratorError(method, `${where}: ${message}`, httpOptionPath());
  };
  if (additional !== undefined && rule.additionalBindings.length > 0) {
    fail("additional_bindings must not nest");
  }
  let verb: string;
  let path: string;
  switch (rule.pattern.case) {
    case "get":
    case "put":
    case "post":
    case "delete":
    case "patch":
      verb = rule.pattern.case.toUpperCase();
      path = rule.pattern.value;
      break;
    case "custom":
      verb = rule.pattern.value.kind.toUpperCase();
      path = rule.pattern.value.path;
      if (!nodeMethods.has(verb))
        fail(`custom method "${rule.pattern.value.kind}" is not an HTTP method node:http serves`);
      break;
    case undefined:
      return fail("the rule has no pattern (get, post, ...)");
  }
  const binding: Binding = { method: verb, path, body: rule.body, responseBody: rule.responseBody };
  try {
    compileBinding(method, binding);
  } catch (err) {
    if (err instanceof RouteError) fail(err.message);
    throw err;
  }
  return binding;
}

/** The binding as the server compiles it: path fields, body field, query-bound fields. */
export function compileBinding(method: DescMethod, binding: Binding): CompiledRoute {
  return compileRoute({
    ...binding,
    operation: operationOf(method),
    input: method.input,
    output: method.output,
  });
}

/** `/pkg.Service/Method`. */
export function operationOf(method: DescMethod): string {
  return `/${method.parent.typeName}/${method.name}`;
}
