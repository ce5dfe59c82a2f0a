// Renders bench/growth.ts's charts to SVG with vega-lite: a spec is compiled to a Vega spec and
// drawn by a headless Vega view (renderer "none", so no canvas or browser is needed; text widths
// are estimated). SVG files diff as text and show on GitHub in bench/README.md.
import { writeFileSync } from "node:fs";
import { parse, View } from "vega";
import { compile } from "vega-lite";
import type { TopLevelSpec } from "vega-lite";

/** One row of a chart's data: field name -> value. */
export type Row = Record<string, string | number>;

/** Renders a vega-lite spec to an SVG document. */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new View(parse(compile(spec).spec), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Renders a vega-lite spec and writes it to `file`, with a white background for dark pages. */
export async function writeChart(file: string, spec: TopLevelSpec): Promise<void> {
  const svg = await renderSvg({ background: "white", ...spec });
  writeFileSync(file, svg + "\n");
}
