// "p50 / p99 latency against offered load, up to saturation": the layout as shipped (HTTP,
// bench/layout-process.ts) under a fixed request rate from bench/open-loop.ts on core 1, at
// fractions of the rate wrk reaches against it right before (closed loop, 64 connections: its
// saturation). wrk's figure drifts with this VM (it read 7,600 req/s once when the layout kept
// up with 8,300 a minute later), so past 1.0 the rate keeps rising by 10% a step until the
// layout falls behind it: then the queue, and so the latency, grows for as long as it lasts.
import { fileURLToPath } from "node:url";
import type { TopLevelSpec } from "vega-lite";
import type { Row } from "../chart.js";
import { run } from "../harness.js";
import type { Harness, Scenario } from "../harness.js";

/** Offered load as fractions of the measured saturation rate; then 10% more a step. */
export const loadSteps = [0.1, 0.25, 0.5, 0.7, 0.8, 0.9, 1.0];
/** Steps past the last of `loadSteps`, at most, looking for the rate the layout falls behind. */
const extraSteps = 6;

/** The layout fell behind: it answered less than 97% of the offered rate, or not all in time. */
function behind(p: LatencyPoint): boolean {
  return p.achieved < 0.97 * p.offered || p.late > 0;
}

/** Latency percentiles at one offered rate. */
export interface LatencyPoint {
  fraction: number;
  offered: number;
  achieved: number;
  late: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** The steps of one latency run and the closed-loop rate they are fractions of. */
export interface LatencyResult {
  server: string;
  /** req/s of wrk -c64 (closed loop) right before the steps. */
  saturation: number;
  points: LatencyPoint[];
}

const openLoop = fileURLToPath(new URL("../open-loop.js", import.meta.url));

/** Offers the layout rising open-loop load until it falls behind, one step at a time. */
export async function measureLatency(
  harness: Harness,
  options: { seconds: number },
  log: (line: string) => void,
): Promise<LatencyResult> {
  const layout: Scenario = {
    name: "kratos-ts layout as shipped (HTTP)",
    server: "layout",
    group: "http",
  };
  return harness.withServers([layout], async ([server]) => {
    const port = server?.port ?? 0;
    const saturation = await harness.load(layout, port, options.seconds);
    log(`latency: wrk -c64 saturates the layout at ${saturation.toFixed(0)} req/s`);
    const points: LatencyPoint[] = [];
    const fractions = [...loadSteps];
    for (let i = 0; i < fractions.length; i++) {
      const fraction = fractions[i] ?? 1;
      const rate = Math.round(saturation * fraction);
      const out = await run("taskset", [
        "-c",
        "1",
        process.execPath,
        openLoop,
        `--port=${port}`,
        `--rate=${rate}`,
        `--seconds=${options.seconds}`,
      ]);
      const point = { fraction, ...(JSON.parse(out) as Omit<LatencyPoint, "fraction">) };
      points.push(point);
      log(
        `latency at ${fraction.toFixed(2)} x saturation (${rate} req/s offered, ` +
          `${point.achieved} answered/s): p50 ${point.p50} ms, p99 ${point.p99} ms`,
      );
      const last = i === fractions.length - 1;
      if (last && !behind(point) && fractions.length < loadSteps.length + extraSteps) {
        fractions.push(Math.round(fraction * 1.1 * 100) / 100);
      }
    }
    return { server: layout.name, saturation, points };
  });
}

/** The steps as markdown table lines. */
export function latencyTable(r: LatencyResult): string[] {
  const lines = [
    `| offered (x ${r.saturation.toFixed(0)} req/s) | offered req/s | answered req/s | p50 ms | p90 ms | p99 ms | max ms | unanswered at the end |`,
    "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  for (const p of r.points) {
    lines.push(
      `| ${p.fraction.toFixed(2)} | ${p.offered} | ${p.achieved} | ${p.p50.toFixed(2)} | ` +
        `${p.p90.toFixed(2)} | ${p.p99.toFixed(2)} | ${p.max.toFixed(1)} | ${p.late} |`,
    );
  }
  return lines;
}

/** p50 and p99 against offered load, as a vega-lite line chart. */
export function latencyChart(r: LatencyResult): TopLevelSpec {
  const values: Row[] = r.points.flatMap((p) => [
    { offered: p.offered, quantile: "p50", ms: p.p50 },
    { offered: p.offered, quantile: "p99", ms: p.p99 },
  ]);
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: {
      text: "Layout as shipped (HTTP): latency against offered load",
      subtitle: `open loop, latency from each request's due time; dashed: wrk's closed-loop rate (${r.saturation.toFixed(0)} req/s)`,
    },
    width: 420,
    height: 260,
    layer: [
      {
        data: { values },
        mark: { type: "line", point: true },
        encoding: {
          x: { field: "offered", type: "quantitative", title: "offered load (requests/s)" },
          y: { field: "ms", type: "quantitative", scale: { type: "log" }, title: "latency (ms)" },
          color: { field: "quantile", type: "nominal", title: null },
        },
      },
      {
        data: { values: [{ saturation: r.saturation }] },
        mark: { type: "rule", strokeDash: [4, 4], color: "gray" },
        encoding: { x: { field: "saturation", type: "quantitative" } },
      },
    ],
  };
}
