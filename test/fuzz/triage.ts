// Running cases and telling a sick server from a healthy one: the case runner (with a
// watchdog), a worker pool that stops early once the server is sick, the heartbeat monitor, the
// probe-based health check, and the narrowing of a crash, hang or handler bug down to the case
// causing it.
import { startTarget } from "./child.js";
import type { FuzzTarget, Memory } from "./child.js";
import type { CaseOutcome, Family } from "./family.js";
import { h2RawFamily } from "./family-h2-raw.js";
import { httpFamily } from "./family-http.js";
import { rpcH2Family } from "./family-rpc-h2.js";
import { rpcHttp1Family } from "./family-rpc-http1.js";
import { probeAll } from "./probes.js";
import { caseSeed, Prng } from "./prng.js";
import { destroyOpenSockets } from "./raw-socket.js";
import { memoryGrowth, mib } from "./report.js";
import { recoveredMarker } from "./target-ipc.js";

/** Every family, in the order the case PRNG picks from (do not reorder: seeds would change). */
export const families: readonly Family[] = [httpFamily, rpcHttp1Family, rpcH2Family, h2RawFamily];

/** The timing knobs triage needs. */
export interface Timing {
  concurrency: number;
  capMs: number;
  probeTimeoutMs: number;
  /** A heartbeat unanswered this long makes the server suspect. */
  heartbeatMs: number;
  /** Allowed RSS growth over a server's baseline (after warm-up), bytes. */
  rssLimit: number;
}

/** A case's outcome and its family's name. */
export type CaseResult = CaseOutcome & { family: string };

/**
 * What is wrong with a server: it exited, it stopped answering (or stalled), recovery caught a
 * bug in a handler (logged with its stack; the client got, or would have got, 500 UNKNOWN), or
 * its RSS grew past the limit.
 */
export interface Sickness {
  kind: "crash" | "hang" | "bug-log" | "rss";
  detail: string;
}

/** RSS growth past the limit over `baseline`, checked cheaply first, then after a full GC. */
async function rssSickness(
  target: FuzzTarget,
  baseline: Memory,
  t: Timing,
): Promise<Sickness | undefined> {
  const quick = await target.memory(t.probeTimeoutMs, false);
  if (quick.rss - baseline.rss <= t.rssLimit) return undefined;
  const settled = await target.memory(t.probeTimeoutMs);
  if (settled.rss - baseline.rss <= t.rssLimit) return undefined;
  const detail = `RSS grew more than ${mib(t.rssLimit)}: ${memoryGrowth(baseline, settled)}`;
  return { kind: "rss", detail };
}

/** The lines of `stderr` where recovery reported a handler bug. */
export function bugLines(stderr: string): string[] {
  return stderr.split("\n").filter((line) => line.includes(recoveredMarker));
}

/** The family of case `index` (the first draw of its PRNG, whatever families are enabled). */
export function caseFamily(seed: number, index: number): { family: Family; rng: Prng } {
  const rng = new Prng(caseSeed(seed, index));
  return { family: rng.pick(families), rng };
}

/** Runs one case; a fuzzer bug (a throw, a case that never ends) is a failure of its own. */
export async function runCase(
  seed: number,
  index: number,
  target: FuzzTarget,
  capMs: number,
): Promise<CaseResult> {
  const { family, rng } = caseFamily(seed, index);
  const input = {
    rng,
    httpPort: Number(target.http.port),
    grpcPort: Number(target.grpc.port),
    capMs,
  };
  // A case ends by itself within a few caps; one that does not must not stall the run.
  const watchdogMs = capMs * 4 + 5_000;
  let timer: NodeJS.Timeout | undefined;
  const stuck = new Promise<CaseOutcome>((resolve) => {
    timer = setTimeout(() => {
      resolve({
        label: "",
        sent: "",
        failure: `harness: case still running after ${watchdogMs} ms`,
      });
    }, watchdogMs);
  });
  try {
    return { ...(await Promise.race([family.run(input), stuck])), family: family.name };
  } catch (err) {
    const detail = err instanceof Error ? (err.stack ?? err.message) : String(err);
    return { label: "", sent: "", failure: `harness: ${detail}`, family: family.name };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Runs `indices` with at most `concurrency` in flight; stops starting cases once `stop()`
 * holds. Resolves with the indices not run.
 */
export async function pool(
  indices: readonly number[],
  concurrency: number,
  run: (i: number) => Promise<void>,
  stop: () => boolean,
): Promise<number[]> {
  let next = 0;
  const worker = async () => {
    while (next < indices.length && !stop()) {
      const i = indices[next++];
      if (i !== undefined) await run(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, indices.length) }, worker));
  return indices.slice(next);
}

/**
 * Watches a target while cases run, with a heartbeat over IPC (answered by the server's event
 * loop). It is suspect once it exits or leaves a heartbeat unanswered for `heartbeatMs`, so a
 * batch stops early instead of running its other cases against a dead server; a suspicion is
 * only that (a busy machine may delay one heartbeat), the probes decide. It has stalled when a
 * heartbeat stays unanswered for `stallMs`: the event loop stopped that long, even if it
 * recovers before the probes. The heartbeat is paced by the cases, not by a clock: `tick` (after
 * each case, and every case ends within its cap) sends the next one once the last is answered.
 * `stop` resolves with whether it stalled, once the heartbeat in flight is answered or has timed
 * out.
 */
export function monitor(
  target: FuzzTarget,
  heartbeatMs: number,
  stallMs: number,
): { suspect: () => boolean; tick: () => void; stop: () => Promise<boolean> } {
  let suspect = false;
  let stalled = false;
  let stopped = false;
  let answered = true;
  let inFlight: Promise<void> = Promise.resolve();
  void target.exited.then(() => {
    suspect = true;
  });
  const beat = () => {
    if (stopped || !answered) return;
    answered = false;
    const late = setTimeout(() => {
      suspect = true;
    }, heartbeatMs);
    inFlight = target.ping(stallMs).then((alive) => {
      clearTimeout(late);
      if (!alive) {
        suspect = true;
        stalled ||= target.exit() === undefined;
        return;
      }
      answered = true;
    });
  };
  beat();
  return {
    suspect: () => suspect,
    tick: beat,
    stop: async () => {
      stopped = true;
      await inFlight;
      return stalled;
    },
  };
}

/** Whether the target is sick: exited, or a well-formed probe is not answered in time. */
export async function health(
  target: FuzzTarget,
  probeTimeoutMs: number,
): Promise<Sickness | undefined> {
  if (target.exit() === undefined) {
    const probe = await probeAll(
      Number(target.http.port),
      Number(target.grpc.port),
      probeTimeoutMs,
    );
    if (probe === undefined) return undefined;
    if (target.exit() === undefined) return { kind: "hang", detail: probe };
  }
  const exit = target.exit();
  return {
    kind: "crash",
    detail: `the server exited (code ${String(exit?.code)}, signal ${String(exit?.signal)})`,
  };
}

/**
 * Runs `indices` against `target` until done or sick: stops early on a suspicion, checks
 * health, and goes on with the cases left when the suspicion was wrong. Resolves with the
 * sickness found (if any) and the cases not run.
 */
export async function runBatch(
  seed: number,
  indices: readonly number[],
  target: FuzzTarget,
  t: Timing,
  each: (i: number, result: CaseResult) => void,
  baseline: Memory | undefined,
): Promise<{ sick: Sickness | undefined; left: number[] }> {
  let left = [...indices];
  const bugsBefore = bugLines(target.stderr()).length;
  for (;;) {
    const watch = monitor(target, t.heartbeatMs, t.probeTimeoutMs);
    left = await pool(
      left,
      t.concurrency,
      async (i) => {
        each(i, await runCase(seed, i, target, t.capMs));
        watch.tick();
      },
      watch.suspect,
    );
    const stalled = await watch.stop();
    const sick = await health(target, t.probeTimeoutMs);
    if (sick !== undefined) return { sick, left };
    if (stalled) {
      const detail = `the event loop stopped for over ${t.probeTimeoutMs} ms (a heartbeat went unanswered), then recovered`;
      return { sick: { kind: "hang", detail }, left };
    }
    const bugs = bugLines(target.stderr()).slice(bugsBefore);
    if (bugs.length > 0) return { sick: { kind: "bug-log", detail: bugs.join("\n") }, left };
    const bloated = baseline === undefined ? undefined : await rssSickness(target, baseline, t);
    if (bloated !== undefined) return { sick: bloated, left };
    if (left.length === 0) return { sick: undefined, left };
  }
}

/**
 * The case among `indices` that makes a server sick (crash, hang, handler bug, RSS): first one by
 * one on a fresh server, checked after each case; when that does not reproduce it (the failure
 * needs cases in parallel), the smallest half that still does, halving on fresh servers while
 * one half does. Returns one index, or the smallest set found.
 */
export async function narrow(
  seed: number,
  indices: readonly number[],
  kind: Sickness["kind"],
  t: Timing,
  progress: (line: string) => void,
): Promise<number[]> {
  progress(`  replaying ${indices.length} cases one by one on a fresh server`);
  const one = await oneByOne(seed, indices, kind, t);
  if (one !== undefined) return [one];
  let current = [...indices];
  while (current.length > 1) {
    const mid = Math.ceil(current.length / 2);
    let found: number[] | undefined;
    for (const half of [current.slice(0, mid), current.slice(mid)]) {
      const range = `${half[0] ?? 0}..${half.at(-1) ?? 0}`;
      progress(`  replaying ${half.length} cases (${range}) in parallel on a fresh server`);
      if (await reproduces(seed, half, kind, t)) {
        found = half;
        break;
      }
    }
    if (found === undefined) break;
    current = found;
  }
  return current;
}

/** The first case after which a fresh server is sick in the way asked, run one at a time. */
async function oneByOne(
  seed: number,
  indices: readonly number[],
  kind: Sickness["kind"],
  t: Timing,
): Promise<number | undefined> {
  const target = await startTarget();
  try {
    const baseline = kind === "rss" ? await target.memory(t.probeTimeoutMs) : undefined;
    for (const i of indices) {
      await runCase(seed, i, target, t.capMs);
      // Two heartbeats in a row: the server answers the first in some turn of its event loop,
      // possibly before the case's last bytes are handled in that same turn; the second needs
      // a later turn, so whatever the case did to the loop has happened by then. Each may take
      // as long as a probe: longer is a stall, a hang of its own.
      const bound = t.probeTimeoutMs;
      const alive = (await target.ping(bound)) && (await target.ping(bound));
      if (target.exit() !== undefined) return kind === "crash" ? i : undefined;
      if (!alive) return kind === "hang" ? i : undefined;
      if (kind === "bug-log" && bugLines(target.stderr()).length > 0) return i;
      if (baseline !== undefined && (await rssSickness(target, baseline, t)) !== undefined) {
        return i;
      }
    }
    return undefined;
  } finally {
    await target.kill();
    destroyOpenSockets();
  }
}

/** Whether `indices` make a fresh server sick in the same way. */
async function reproduces(
  seed: number,
  indices: readonly number[],
  kind: Sickness["kind"],
  t: Timing,
): Promise<boolean> {
  const target = await startTarget();
  // A shorter probe bound: the hang was confirmed with the full one, and a hang is a stuck
  // loop, not a slow answer. A replay misjudged only narrows less.
  const quick = { ...t, probeTimeoutMs: Math.min(t.probeTimeoutMs, 3_000) };
  try {
    const baseline = kind === "rss" ? await target.memory(t.probeTimeoutMs) : undefined;
    const { sick } = await runBatch(seed, indices, target, quick, () => undefined, baseline);
    return sick?.kind === kind;
  } finally {
    await target.kill();
    destroyOpenSockets();
  }
}

/**
 * Regenerates case `index` against a throwaway server, to print what it sends; `bugs` are the
 * handler bugs it made that server log.
 */
export async function describeCase(
  seed: number,
  index: number,
): Promise<CaseResult & { bugs: string[] }> {
  const target = await startTarget();
  try {
    const result = await runCase(seed, index, target, 200);
    // A heartbeat round trip: the server has handled what the case sent before answering it.
    await target.ping(2_000);
    return { ...result, bugs: bugLines(target.stderr()) };
  } finally {
    await target.kill();
    destroyOpenSockets();
  }
}
