/**
 * The `google.api.http` path template syntax, parsed once and shared by the HTTP server and
 * protoc-gen-kratos-http, so that the generator rejects exactly what the server cannot serve.
 *
 * ```
 * Template = "/" Segments [ Verb ] ;
 * Segments = Segment { "/" Segment } ;
 * Segment  = "*" | "**" | LITERAL | Variable ;
 * Variable = "{" FieldPath [ "=" Segments ] "}" ;
 * FieldPath = IDENT { "." IDENT } ;
 * Verb     = ":" LITERAL ;
 * ```
 */

/** One path segment of a template; variables expand to one or more of these. */
export type TemplateSegment =
  | { kind: "literal"; value: string }
  /** `*`: exactly one segment. */
  | { kind: "single" }
  /** `**`: the rest of the path (zero or more segments); only last. */
  | { kind: "rest" };

/** A part of a parsed template: a plain segment, or a variable bound to a request field. */
export type TemplatePart =
  TemplateSegment | { kind: "variable"; fieldPath: string[]; segments: TemplateSegment[] };

/** A parsed path template. */
export interface PathTemplate {
  /** The template as written. */
  source: string;
  parts: TemplatePart[];
  /** The custom verb (`cancel` in `/v1/{name}:cancel`), or undefined. */
  verb: string | undefined;
}

/** A template that cannot be parsed; the message says where. */
export class PathTemplateError extends Error {
  constructor(template: string, message: string) {
    super(`path template "${template}": ${message}`);
    this.name = "PathTemplateError";
  }
}

const ident = /^[A-Za-z_][A-Za-z0-9_]*$/;
// Unreserved and sub-delims characters of RFC 3986, plus ":" and "@" (pchar), minus "/".
const literalChars = /^[A-Za-z0-9\-._~!$&'()*+,;=@%]+$/;

/** Parses a template; throws PathTemplateError naming the problem. */
export function parsePathTemplate(template: string): PathTemplate {
  const fail = (message: string): never => {
    throw new PathTemplateError(template, message);
  };
  if (!template.startsWith("/")) fail("must start with /");
  let body = template.slice(1);
  let verb: string | undefined;
  // A verb is a ":" after the last "/" that is not inside a variable.
  const lastSlash = body.lastIndexOf("/");
  const lastClose = body.lastIndexOf("}");
  const colon = body.indexOf(":", Math.max(lastSlash, lastClose) + 1);
  if (colon >= 0) {
    verb = body.slice(colon + 1);
    body = body.slice(0, colon);
    if (verb === "" || !literalChars.test(verb)) fail(`bad verb ":${verb}"`);
  }
  if (body === "") return { source: template, parts: [], verb };
  const parts: TemplatePart[] = [];
  const seen = new Set<string>();
  let i = 0;
  while (i <= body.length) {
    if (body[i] === "{") {
      const close = body.indexOf("}", i);
      if (close < 0) fail("unclosed {");
      const inner = body.slice(i + 1, close);
      if (inner.includes("{")) fail("nested variables are not allowed");
      const eq = inner.indexOf("=");
      const path = eq < 0 ? inner : inner.slice(0, eq);
      const fieldPath = path.split(".");
      if (fieldPath.some((p) => !ident.test(p))) fail(`bad field path "${path}"`);
      if (seen.has(path)) fail(`field "${path}" is bound twice`);
      seen.add(path);
      const segments =
        eq < 0 ? [{ kind: "single" } as const] : parseSegments(inner.slice(eq + 1), fail);
      parts.push({ kind: "variable", fieldPath, segments });
      i = close + 1;
    } else {
      let end = body.indexOf("/", i);
      if (end < 0) end = body.length;
      const raw = body.slice(i, end);
      if (raw.includes("{") || raw.includes("}")) fail(`bad segment "${raw}"`);
      parts.push(...parseSegments(raw, fail));
      i = end;
    }
    if (i === body.length) break;
    if (body[i] !== "/") fail(`expected / at offset ${i + 1}`);
    i++;
    if (i === body.length) fail("must not end with /");
  }
  const flat = flatten(parts);
  const restAt = flat.findIndex((s) => s.kind === "rest");
  if (restAt >= 0 && restAt !== flat.length - 1) fail("** must be the last segment");
  return { source: template, parts, verb };
}

function parseSegments(raw: string, fail: (m: string) => never): TemplateSegment[] {
  if (raw === "") return fail("empty segment");
  return raw.split("/").map((s): TemplateSegment => {
    if (s === "*") return { kind: "single" };
    if (s === "**") return { kind: "rest" };
    if (s === "" || !literalChars.test(s) || s.includes("*")) return fail(`bad segment "${s}"`);
    return { kind: "literal", value: s };
  });
}

/** The plain segments of a template, variables expanded. */
export function flatten(parts: readonly TemplatePart[]): TemplateSegment[] {
  return parts.flatMap((p) => (p.kind === "variable" ? p.segments : [p]));
}

/** The field paths bound by a template's variables (`["book", "id"]` for `{book.id}`). */
export function templateFields(template: PathTemplate): string[][] {
  return template.parts.flatMap((p) => (p.kind === "variable" ? [p.fieldPath] : []));
}
