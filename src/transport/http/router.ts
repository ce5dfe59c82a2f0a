import FindMyWay from "find-my-way";
import type { ConstraintStrategy, Handler, HTTPMethod, HTTPVersion } from "find-my-way";
import { KratosError } from "../../errors/error.js";
import { reasons } from "../../errors/reasons.js";
import type { PathTemplate, TemplateSegment } from "../../http-rule/path-template.js";

/** Where the value of one template variable comes from: literals and router params. */
type Piece = { literal: string } | { param: string };

interface CompiledVariable {
  fieldPath: string;
  pieces: Piece[];
  /** The router param when the variable is exactly one (the usual `{id}`): no join needed. */
  param: string | undefined;
}

interface Entry<T> {
  store: T;
  template: PathTemplate;
  variables: CompiledVariable[];
}

/** The outcome of a lookup. */
export type RouteMatch<T> =
  | { kind: "found"; store: T; template: PathTemplate; vars: [fieldPath: string, value: string][] }
  | { kind: "not-found" }
  | { kind: "method-not-allowed"; allowed: string[] }
  | { kind: "bad-path" };

/** The error a request gets when no route serves it: 404, 405 or (a malformed path) 400. */
export function missError(
  match: Exclude<RouteMatch<unknown>, { kind: "found" }>,
  method: string,
  path: string,
): KratosError {
  switch (match.kind) {
    case "method-not-allowed":
      return new KratosError(
        405,
        reasons.methodNotAllowed,
        `method ${method} not allowed for ${path}`,
      );
    case "bad-path":
      return new KratosError(400, reasons.codec, `malformed path ${path}`);
    case "not-found":
      return new KratosError(404, reasons.notFound, `no route for ${method} ${path}`);
  }
}

// find-my-way matches the path without the custom verb; the verb is a route constraint, so
// `/v1/{name}` and `/v1/{name}:cancel` are two routes on the same tree path.
const verbConstraint: ConstraintStrategy<HTTPVersion.V1> = {
  name: "verb",
  storage() {
    const map = new Map<string, Handler<HTTPVersion.V1>>();
    return {
      get: (k) => map.get(k) ?? null,
      set: (k, v) => {
        map.set(k, v);
      },
    };
  },
  // Never derived from the request: the router passes the verb explicitly to find().
  deriveConstraint: () => "",
  mustMatchWhenDerived: true,
};

/**
 * A radix-tree router (find-my-way) for `google.api.http` templates: `*` is one segment, `**` the
 * rest of the path, variables may span several segments, and a trailing `:verb` selects custom
 * methods. A path whose last segment merely contains ":" still reaches a verb-less route.
 */
export class Router<T> {
  readonly #tree = FindMyWay({
    constraints: { verb: verbConstraint },
    ignoreTrailingSlash: false,
    caseSensitive: true,
    maxParamLength: 1000,
  });
  readonly #methods = new Set<string>();
  readonly #routes = new Map<string, PathTemplate>();

  /** Adds a route; throws when the same method and path shape is already taken. */
  add(method: string, template: PathTemplate, store: T): void {
    const { path, variables } = compile(template);
    const key = `${method} ${path} :${template.verb ?? ""}`;
    const existing = this.#routes.get(key);
    if (existing !== undefined) {
      throw new Error(
        `route ${method} ${template.source} conflicts with ${method} ${existing.source}`,
      );
    }
    this.#routes.set(key, template);
    this.#methods.add(method);
    const entry: Entry<T> = { store, template, variables };
    const options = template.verb === undefined ? {} : { constraints: { verb: template.verb } };
    this.#tree.on(method as HTTPMethod, path, options, () => undefined, entry);
  }

  /** Finds the route for a method and a path (without the query string). */
  find(method: string, path: string): RouteMatch<T> {
    let found: Found<T> | undefined;
    try {
      found = this.#lookup(method, path);
    } catch {
      return { kind: "bad-path" };
    }
    if (found === undefined) {
      // find-my-way finds nothing for a path whose percent-encoding is broken (%ZZ, or bytes
      // that are not UTF-8): that is the client's malformed request, not a missing route.
      if (!wellEncoded(path)) return { kind: "bad-path" };
      const allowed = [...this.#methods].filter(
        (m) => m !== method && this.#lookupSafe(m, path) !== undefined,
      );
      return allowed.length > 0 ? { kind: "method-not-allowed", allowed } : { kind: "not-found" };
    }
    const { store: entry, params } = found;
    const vars: [string, string][] = [];
    for (const v of entry.variables) {
      const value =
        v.param !== undefined
          ? (params[v.param] ?? "")
          : v.pieces.map((p) => ("literal" in p ? p.literal : (params[p.param] ?? ""))).join("/");
      vars.push([v.fieldPath, value]);
    }
    return { kind: "found", store: entry.store, template: entry.template, vars };
  }

  #lookupSafe(method: string, path: string): Found<T> | undefined {
    try {
      return this.#lookup(method, path);
    } catch {
      return undefined;
    }
  }

  #lookup(method: string, path: string): Found<T> | undefined {
    const slash = path.lastIndexOf("/");
    const colon = path.indexOf(":", slash + 1);
    if (colon >= 0) {
      const verb = path.slice(colon + 1);
      const withVerb = this.#tree.find(method as HTTPMethod, path.slice(0, colon), { verb });
      if (withVerb !== null) return withVerb;
    }
    return this.#tree.find(method as HTTPMethod, path) ?? undefined;
  }
}

/** True when every `%` escape of `path` is valid and they decode to UTF-8. */
function wellEncoded(path: string): boolean {
  if (!path.includes("%")) return true;
  try {
    decodeURIComponent(path);
    return true;
  } catch {
    return false;
  }
}

/** What find-my-way returns for a match: our entry is its store. */
interface Found<T> {
  store: Entry<T>;
  params: Record<string, string | undefined>;
}

/** The find-my-way path of a template and how to rebuild each variable from the params. */
function compile(template: PathTemplate): { path: string; variables: CompiledVariable[] } {
  let n = 0;
  const segment = (s: TemplateSegment): { route: string; piece: Piece } => {
    switch (s.kind) {
      case "literal":
        // find-my-way reads ":" as a parameter; "::" is a literal colon.
        return { route: s.value.replaceAll(":", "::"), piece: { literal: s.value } };
      case "single": {
        const param = `p${n++}`;
        return { route: `:${param}`, piece: { param } };
      }
      case "rest":
        return { route: "*", piece: { param: "*" } };
    }
  };
  const routeSegments: string[] = [];
  const variables: CompiledVariable[] = [];
  for (const part of template.parts) {
    if (part.kind === "variable") {
      const compiled = part.segments.map(segment);
      routeSegments.push(...compiled.map((c) => c.route));
      const pieces = compiled.map((c) => c.piece);
      const only = pieces.length === 1 ? pieces[0] : undefined;
      variables.push({
        fieldPath: part.fieldPath.join("."),
        pieces,
        param: only !== undefined && "param" in only ? only.param : undefined,
      });
    } else {
      routeSegments.push(segment(part).route);
    }
  }
  return { path: "/" + routeSegments.join("/"), variables };
}
