// Path variables of a google.api.http template as OpenAPI describes them: multi-segment
// variables (`{name=shelves/*}`) become a string parameter with their source and a pattern.
import type { TemplateSegment } from "../../src/http-rule/path-template.js";

/** The segments of a variable as written in its template: `shelves/*`. */
export function segmentsSource(segments: readonly TemplateSegment[]): string {
  return segments
    .map((s) => (s.kind === "literal" ? s.value : s.kind === "single" ? "*" : "**"))
    .join("/");
}

/** A regular expression for a `**` path variable: `shelves/**` -> `^shelves/.+$`. */
export function segmentsPattern(segments: readonly TemplateSegment[]): string {
  const parts = segments.map((s) =>
    s.kind === "literal"
      ? s.value.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")
      : s.kind === "single"
        ? "[^/]+"
        : ".+",
  );
  return `^${parts.join("/")}$`;
}
