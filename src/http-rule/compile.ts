import type { DescField, DescMessage } from "@bufbuild/protobuf";
import { FieldPathError, resolveFieldPath, resolvePathVariable } from "./field-path.js";
import { parsePathTemplate, templateFields } from "./path-template.js";
import type { PathTemplate } from "./path-template.js";

/**
 * One `google.api.http` binding of an RPC, without its handler: what the HTTP server routes,
 * the HTTP clients call and the generators check.
 */
export interface RouteBinding<
  I extends DescMessage = DescMessage,
  O extends DescMessage = DescMessage,
> {
  /** `GET`, `POST`, `PUT`, `DELETE`, `PATCH`, or a custom method kind. */
  method: string;
  /** The path template: `/v1/{name=shelves/*}/books`. */
  path: string;
  /** The full method name: `/pkg.Service/Method`. */
  operation: string;
  input: I;
  output: O;
  /** `""` (no body), `"*"` (the whole request) or the name of the request field the body fills. */
  body?: string;
  /** `""` (the whole reply) or the name of the reply field that is the response body. */
  responseBody?: string;
}

/** A route checked against its messages, with everything the request path needs precomputed. */
export interface CompiledRoute<R extends RouteBinding = RouteBinding> {
  route: R;
  template: PathTemplate;
  /** Field chains of the path variables, by their dotted path as the template writes it. */
  pathFields: Map<string, DescField[]>;
  /** The request field the body fills (undefined for no body and for `*`). */
  bodyField: DescField | undefined;
  /** Whether the whole request comes from the body (`body: "*"`). */
  wholeBody: boolean;
  /** The reply field that is the response body, if any. */
  responseField: DescField | undefined;
  /** Fields bound by path or body; the query skips them. */
  bound: Set<string>;
  /** Whether the body is a google.api.HttpBody, taken raw instead of decoded. */
  rawBody: boolean;
  /** Whether the reply (or response field) is a google.api.HttpBody, written raw. */
  rawReply: boolean;
}

const httpBodyType = "google.api.HttpBody";

/** A route that cannot be served; the message names the route and the element. */
export class RouteError extends Error {
  override name = "RouteError";
}

/**
 * Checks a route against its messages and precomputes its binding. The generator runs the same
 * checks, so a binding it accepts is one the server serves.
 */
export function compileRoute<R extends RouteBinding>(route: R): CompiledRoute<R> {
  const where = `${route.method} ${route.path} (${route.operation})`;
  try {
    const template = parsePathTemplate(route.path);
    const pathFields = new Map<string, DescField[]>();
    const bound = new Set<string>();
    for (const path of templateFields(template)) {
      const chain = resolvePathVariable(route.input, path);
      pathFields.set(path.join("."), chain);
      bound.add(chain.map((f) => f.name).join("."));
    }
    const body = route.body ?? "";
    let bodyField: DescField | undefined;
    if (body !== "" && body !== "*") {
      const [field] = resolveFieldPath(route.input, [body]);
      bodyField = field;
      if (bodyField === undefined) throw new FieldPathError(`no body field "${body}"`);
    }
    const responseBody = route.responseBody ?? "";
    let responseField: DescField | undefined;
    if (responseBody !== "") {
      [responseField] = resolveFieldPath(route.output, [responseBody]);
    }
    if (bodyField !== undefined) bound.add(bodyField.name);
    const rawBody =
      (body === "*" && route.input.typeName === httpBodyType) ||
      (bodyField?.fieldKind === "message" && bodyField.message.typeName === httpBodyType);
    const rawReply =
      responseField === undefined
        ? route.output.typeName === httpBodyType
        : responseField.fieldKind === "message" && responseField.message.typeName === httpBodyType;
    return {
      route,
      template,
      pathFields,
      bodyField,
      wholeBody: body === "*",
      responseField,
      bound,
      rawBody,
      rawReply,
    };
  } catch (err) {
    throw new RouteError(`${where}: ${err instanceof Error ? err.message : String(err)}`, {
      cause: err,
    });
  }
}
