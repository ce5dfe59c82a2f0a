// A fuzz run: cases in batches against a child server. After each batch the server must be
// alive and answer the well-formed probes in time; a crash or hang is narrowed down to the case
// that causes it (triage.ts), then the run goes on with a new server. So is RSS growth past the
// limit, and a handler bug that recovery logs (the server then lives on). When the last
// server's life ends: its exit on SIGTERM.
import { startTarget } from "./child.js";
import type { FuzzTarget, Memory } from "./child.js";
import { formatReport, indent } from "./report.js";
import type { Failure, FuzzReport } from "./report.js";
import { destroyOpenSockets } from "./raw-socket.js";
import { caseFamily, describeCase, families, narrow, runBatch } from "./triage.js";
import type { CaseResult, Sickness, Timing } from "./triage.js";

export { formatReport };
export type { Failure, FuzzReport };

/** Options of {@link runFuzz}. */
export interface FuzzOptions {
  seed: number;
  /** Cases to generate (those of families left out included). */
  count: number;
  /** Index of the first case. Default 0. */
  from?: number;
  /** Names of the families to run. Default: all. */
  only?: readonly string[];
  /** Cases in flight at once. Default 8. */
  concurrency?: number;
  /** Cases between two probe rounds. Default 50. */
  batch?: number;
  /** The longest a case waits for an answer, ms. Default 400. */
  capMs?: number;
  /** The longest a probe may take, ms. Default 5000. */
  probeTimeoutMs?: number;
  /**
   * No new batch starts after this many ms of fuzzing (narrowing failures down does not count,
   * so what was found does not change which cases run). Default: none.
   */
  budgetMs?: number;
  /** Allowed RSS growth of a server over its size after the first batch, bytes. Default 128 MiB. */
  rssGrowthLimit?: number;
  /** The bound on the exit after SIGTERM, ms. Default 10 000. */
  stopTimeoutMs?: number;
  /** Crashes and hangs after which the run stops. Default 3. */
  maxDeaths?: number;
  onProgress?: (line: string) => void;
}

/** Runs the fuzz cases; resolves with the report (server failures are in it, not thrown). */
export async function runFuzz(options: FuzzOptions): Promise<FuzzReport> {
  const known = families.map((f) => f.name);
  for (const name of options.only ?? []) {
    if (!known.includes(name)) {
      throw new Error(`unknown fuzz family "${name}" (known: ${known.join(", ")})`);
    }
  }
  return new FuzzRun(options).run();
}

class FuzzRun {
  readonly #o: FuzzOptions;
  readonly #timing: Timing;
  readonly #failures = new Map<string, Failure>();
  readonly #report: FuzzReport;
  readonly #started = Date.now();
  readonly #progress: (line: string) => void;
  // Time spent narrowing failures down, left out of the budget.
  #triageMs = 0;
  #bugsNarrowed = 0;
  #rssNarrowed = 0;

  constructor(options: FuzzOptions) {
    this.#o = options;
    this.#timing = {
      concurrency: options.concurrency ?? 8,
      capMs: options.capMs ?? 400,
      probeTimeoutMs: options.probeTimeoutMs ?? 5_000,
      heartbeatMs: 2_000,
      rssLimit: options.rssGrowthLimit ?? 128 * 1024 * 1024,
    };
    this.#progress = options.onProgress ?? (() => undefined);
    this.#report = {
      seed: options.seed,
      casesRun: 0,
      failures: [],
      durationMs: 0,
      memory: [],
      stoppedByBudget: false,
    };
  }

  async run(): Promise<FuzzReport> {
    const { seed, count, budgetMs } = this.#o;
    const from = this.#o.from ?? 0;
    const batchSize = this.#o.batch ?? 50;
    const enabled = new Set(this.#o.only ?? families.map((f) => f.name));
    let queue = Array.from({ length: count }, (_, k) => from + k).filter((i) =>
      enabled.has(caseFamily(seed, i).family.name),
    );
    let target = await startTarget();
    let baseline: Memory | undefined;
    let deaths = 0;
    try {
      while (queue.length > 0) {
        if (budgetMs !== undefined && Date.now() - this.#started - this.#triageMs > budgetMs) {
          this.#report.stoppedByBudget = true;
          break;
        }
        const batch = queue.slice(0, batchSize);
        const onCase = (i: number, r: CaseResult) => {
          this.#onCase(i, r);
        };
        const { sick, left } = await runBatch(seed, batch, target, this.#timing, onCase, baseline);
        // Cases a sick server did not get run on the next one.
        queue = [...left, ...queue.slice(batchSize)];
        if (sick === undefined) {
          // The first batch warms the server up; growth is measured from there.
          baseline ??= await target.memory(this.#timing.probeTimeoutMs);
          const elapsed = Math.round((Date.now() - this.#started) / 1000);
          const found = this.#failures.size;
          this.#progress(
            `${this.#report.casesRun} cases, ${elapsed} s, ${found} distinct failures`,
          );
          continue;
        }
        const ran = batch.filter((i) => !left.includes(i));
        const triageStart = Date.now();
        if (sick.kind === "bug-log") {
          await this.#recordBug(sick.detail.split("\n"), ran);
        } else if (sick.kind === "rss") {
          // Growth is measured on a fresh server from here (RSS rarely goes back down).
          await target.kill();
          await this.#recordRss(sick, ran);
          target = await startTarget();
          baseline = undefined;
        } else {
          deaths++;
          const stderr = target.stderr();
          await target.kill();
          await this.#recordDeath(sick, stderr, ran);
          if (deaths < (this.#o.maxDeaths ?? 3)) {
            target = await startTarget();
            baseline = undefined;
          }
        }
        this.#triageMs += Date.now() - triageStart;
        if (deaths >= (this.#o.maxDeaths ?? 3)) break;
      }
      if (target.exit() === undefined) await this.#endOfLife(target, baseline);
    } finally {
      await target.kill();
      destroyOpenSockets();
    }
    this.#report.failures = [...this.#failures.values()];
    this.#report.durationMs = Date.now() - this.#started;
    return this.#report;
  }

  /** Records a failure; one of the same key only counts as a repeat. */
  #record(key: string, failure: Omit<Failure, "repeats">): void {
    const seen = this.#failures.get(key);
    if (seen === undefined) this.#failures.set(key, { ...failure, repeats: 0 });
    else seen.repeats++;
  }

  #onCase(i: number, r: CaseResult): void {
    this.#report.casesRun++;
    if (r.failure === undefined) return;
    // One entry per family and shape of failure: the status and the start of the answer's
    // message, paths and numbers aside (one bug tends to answer alike on every method).
    const shape = r.failure
      .replace(/ on \/\S+/, "")
      .replace(/\/[\w.]+\/\w+/g, "/M")
      .replace(/\d+/g, "N")
      .slice(0, 160);
    this.#record(`${r.family}:${shape}`, {
      kind: r.failure.startsWith("harness:") ? "harness" : "server-error",
      detail: r.failure,
      caseIndex: i,
      family: r.family,
      label: r.label,
      sent: r.sent,
      seen: r.seen,
    });
  }

  /**
   * Handler bugs logged in cases `ran`: one entry per error message (numbers and HTTP/2 error
   * names aside); the first bug of the run is narrowed down to its case, later ones only listed.
   */
  async #recordBug(lines: string[], ran: number[]): Promise<void> {
    const shape = (line: string) =>
      (/"err":"([^"]*)"/.exec(line)?.[1] ?? line.slice(0, 120)).replace(/\d+|NGHTTP2_\w+/g, "X");
    const range = `${ran[0] ?? 0}..${ran.at(-1) ?? 0}`;
    if (this.#bugsNarrowed++ === 0) {
      this.#progress(`handler bug logged in cases ${range}; narrowing it down`);
      const culprit = await narrow(this.#o.seed, ran, "bug-log", this.#timing, this.#progress);
      const one = culprit.length === 1 ? culprit[0] : undefined;
      if (one !== undefined) {
        const c = await describeCase(this.#o.seed, one);
        const line = c.bugs[0] ?? lines[0] ?? "";
        this.#record(`bug-log:${shape(line)}`, {
          kind: "bug-log",
          detail: `recovery caught a handler bug:\n${indent(line.slice(0, 1500))}`,
          caseIndex: one,
          family: c.family,
          label: c.label,
          sent: c.sent,
        });
      }
    }
    for (const line of lines) {
      this.#record(`bug-log:${shape(line)}`, {
        kind: "bug-log",
        detail: `recovery caught a handler bug (in cases ${range}):\n${indent(line.slice(0, 1500))}`,
      });
    }
  }

  /** RSS growth in cases `ran`; the first of the run is narrowed down to its case. */
  async #recordRss(sick: Sickness, ran: number[]): Promise<void> {
    const range = `${ran[0] ?? 0}..${ran.at(-1) ?? 0}`;
    if (this.#rssNarrowed++ > 0) {
      this.#record("rss", { kind: "rss", detail: `${sick.detail} (in cases ${range})` });
      return;
    }
    this.#progress(`${sick.detail} in cases ${range}; narrowing it down`);
    const culprit = await narrow(this.#o.seed, ran, "rss", this.#timing, this.#progress);
    const one = culprit.length === 1 ? culprit[0] : undefined;
    const c = one === undefined ? undefined : await describeCase(this.#o.seed, one);
    this.#record("rss", {
      kind: "rss",
      detail: `${sick.detail} (in cases ${range})`,
      ...(c === undefined
        ? {}
        : { caseIndex: one, family: c.family, label: c.label, sent: c.sent }),
    });
  }

  /** A crash or hang in cases `ran`, narrowed down to its case. */
  async #recordDeath(sick: Sickness, stderr: string, ran: number[]): Promise<void> {
    const range = `${ran[0] ?? 0}..${ran.at(-1) ?? 0}`;
    this.#progress(`${sick.kind} in cases ${range}: ${sick.detail}; narrowing it down`);
    const culprit = await narrow(this.#o.seed, ran, sick.kind, this.#timing, this.#progress);
    const detail = `${sick.detail}\n  server stderr:\n${indent(stderr.slice(-4000))}`;
    const one = culprit.length === 1 ? culprit[0] : undefined;
    if (one === undefined) {
      const which = `not reproduced by one case alone; cases ${culprit.join(",")}`;
      this.#record(`${sick.kind}:${range}`, { kind: sick.kind, detail: `${detail}\n  ${which}` });
      return;
    }
    const c = await describeCase(this.#o.seed, one);
    this.#record(`${sick.kind}:${one}`, {
      kind: sick.kind,
      detail,
      caseIndex: one,
      family: c.family,
      label: c.label,
      sent: c.sent,
    });
  }

  /** The end of the last server's life: its memory for the report, its exit on SIGTERM. */
  async #endOfLife(target: FuzzTarget, baseline: Memory | undefined): Promise<void> {
    const end = await target.memory(this.#timing.probeTimeoutMs).catch(() => undefined);
    if (baseline !== undefined && end !== undefined) {
      this.#report.memory.push({ baseline, end });
    }
    const bound = this.#o.stopTimeoutMs ?? 10_000;
    const stop = await target.stop(bound);
    const stderr = `\n  server stderr:\n${indent(target.stderr().slice(-4000))}`;
    if (!stop.graceful) {
      const detail = `no exit within ${bound} ms of SIGTERM (killed)${stderr}`;
      this.#record("shutdown", { kind: "shutdown", detail });
    } else if (stop.exit.code !== 0) {
      const detail = `exit code ${String(stop.exit.code)} after SIGTERM${stderr}`;
      this.#record("shutdown", { kind: "shutdown", detail });
    }
  }
}
