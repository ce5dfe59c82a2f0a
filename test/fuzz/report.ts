// What a fuzz run found, and how it is printed: each failure with its case, the bytes sent,
// the answer, and the command that replays it.
import type { Memory } from "./target-ipc.js";

/** One failure, with what is needed to replay it. */
export interface Failure {
  kind: "crash" | "hang" | "server-error" | "rss" | "shutdown" | "bug-log" | "harness";
  detail: string;
  caseIndex?: number;
  family?: string;
  label?: string;
  sent?: string;
  seen?: string;
  /** Failures of the same kind and shape folded into this one. */
  repeats: number;
}

/** The outcome of a run. */
export interface FuzzReport {
  seed: number;
  casesRun: number;
  failures: Failure[];
  durationMs: number;
  /** Memory of the server that lived to the end of the run: after warm-up, and at the end. */
  memory: { baseline: Memory; end: Memory }[];
  stoppedByBudget: boolean;
}

/** The report as text; `command` is how the reader runs the fuzzer (for replay lines). */
export function formatReport(report: FuzzReport, command = "npm run fuzz --"): string {
  const seconds = (report.durationMs / 1000).toFixed(1);
  const budget = report.stoppedByBudget ? " (stopped by the time budget)" : "";
  const lines = [
    `fuzz seed ${report.seed}: ${report.casesRun} cases in ${seconds} s, ${report.failures.length} distinct failures${budget}`,
  ];
  for (const { baseline, end } of report.memory)
    lines.push(`  server ${memoryGrowth(baseline, end)}`);
  for (const f of report.failures) {
    const where = [
      f.family === undefined ? "" : ` family ${f.family}`,
      f.caseIndex === undefined ? "" : ` case ${f.caseIndex}`,
      f.repeats > 0 ? ` (+${f.repeats} alike)` : "",
    ].join("");
    lines.push("", `[${f.kind}]${where}`, `  ${f.detail}`);
    if (f.label !== undefined) lines.push(`  mutations: ${f.label}`);
    if (f.sent !== undefined) lines.push(`  sent: ${f.sent}`);
    if (f.seen !== undefined) lines.push(`  answered: ${f.seen}`);
    if (f.caseIndex !== undefined) {
      lines.push(`  replay: ${command} --seed=${report.seed} --from=${f.caseIndex} --count=1`);
    }
  }
  if (report.failures.length > 0) {
    lines.push(
      "",
      `replay the run: KRATOS_FUZZ_SEED=${report.seed} npm test, or ${command} --seed=${report.seed} --count=<n>`,
    );
  }
  return lines.join("\n");
}

/** How the server's memory changed, on one line. */
export function memoryGrowth(from: Memory, to: Memory): string {
  return [
    `RSS ${mib(from.rss)} -> ${mib(to.rss)}`,
    `heap used ${mib(from.heapUsed)} -> ${mib(to.heapUsed)}`,
    `external ${mib(from.external)} -> ${mib(to.external)}`,
    `open handles ${from.handles} -> ${to.handles}`,
  ].join(", ");
}

/** Bytes as MiB, for memory lines. */
export function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/** Indents a block (server stderr) under a failure. */
export function indent(text: string): string {
  return text
    .split("\n")
    .map((l) => `    ${l}`)
    .join("\n");
}
