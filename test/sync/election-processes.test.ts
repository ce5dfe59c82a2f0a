import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { join } from "node:path";
import { etcdSkip, eventually } from "../helpers/etcd.js";
import { repoRoot } from "../helpers/repo.js";
import { spawnLogged } from "../helpers/service.js";
import type { LogLine, ServiceProcess } from "../helpers/service.js";
import { syncSuite } from "./harness.js";

const skip = etcdSkip();
const campaigner = join(repoRoot, "dist", "test", "sync", "fixtures", "campaigner.js");
const ttl = 2;

interface Candidate {
  readonly id: string;
  readonly proc: ServiceProcess;
  /** When the parent SIGKILLed it; its leadership ended then at the latest. */
  killedAt?: number;
}

/**
 * The leadership intervals of every candidate: from its `leader-acquired` to its `leader-lost`,
 * to the moment it was killed, or open (still leading).
 */
function intervals(candidates: readonly Candidate[]): { id: string; from: number; to: number }[] {
  const list: { id: string; from: number; to: number }[] = [];
  for (const c of candidates) {
    let from: number | undefined;
    for (const line of c.proc.lines) {
      if (line.event === "leader-acquired") from = Number(line.t);
      if (line.event === "leader-lost" && from !== undefined) {
        list.push({ id: c.id, from, to: Number(line.t) });
        from = undefined;
      }
    }
    if (from !== undefined) list.push({ id: c.id, from, to: c.killedAt ?? Infinity });
  }
  return list.sort((a, b) => a.from - b.from);
}

describe("sync: three processes campaigning", { skip }, () => {
  const candidates: Candidate[] = [];
  // Registered first, so it runs first: the candidates go before their etcd does.
  after(async () => {
    for (const c of candidates) c.proc.child.kill("SIGKILL");
    await Promise.all(candidates.map((c) => c.proc.exited));
  });
  const suite = syncSuite();

  it("have exactly one leader at a time, and a new one within 2 x TTL of a SIGKILL", async () => {
    const etcd = suite.etcd;
    const observer = suite.open().election("singleton").observe();
    for (const id of ["c1", "c2", "c3"]) {
      const proc = spawnLogged(
        process.execPath,
        ["--enable-source-maps", campaigner, etcd.endpoint, "singleton", id, String(ttl)],
        repoRoot,
        process.env,
      );
      candidates.push({ id, proc });
    }
    const acquired = (line: LogLine) => line.event === "leader-acquired";
    const leaderOf = async (alive: Candidate[], after: number): Promise<[Candidate, LogLine]> => {
      const line = await Promise.race(
        alive.map((c) => c.proc.waitForLine((l) => acquired(l) && Number(l.t) >= after)),
      );
      const leader = alive.find((c) => c.id === line.id);
      assert.ok(leader !== undefined);
      return [leader, line];
    };
    await Promise.all(candidates.map((c) => c.proc.waitForLine((l) => l.event === "ready")));
    let [leader, line] = await leaderOf(candidates, 0);
    await eventually("the observer sees the leader", () => observer.leader === leader.id);
    const failovers: number[] = [];
    const tokens = [BigInt(String(line.token))];
    for (let round = 0; round < 2; round++) {
      const alive = candidates.filter((c) => c.killedAt === undefined && c !== leader);
      const killedAt = Date.now();
      leader.killedAt = killedAt;
      leader.proc.child.kill("SIGKILL");
      [leader, line] = await leaderOf(alive, killedAt);
      failovers.push(Number(line.t) - killedAt);
      tokens.push(BigInt(String(line.token)));
      const next = leader;
      await eventually("the observer follows", () => observer.leader === next.id);
    }
    console.log(`# new leader after SIGKILL: ${failovers.join(", ")} ms (TTL ${ttl * 1000} ms)`);
    for (const failover of failovers) {
      assert.ok(failover <= 2 * ttl * 1000, `a new leader within 2 x TTL: ${failover} ms`);
    }
    assert.ok(tokens[0] !== undefined && tokens[1] !== undefined && tokens[2] !== undefined);
    assert.ok(
      tokens[0] < tokens[1] && tokens[1] < tokens[2],
      `fencing tokens grow: ${tokens.join()}`,
    );
    const list = intervals(candidates);
    for (let i = 1; i < list.length; i++) {
      const [prev, cur] = [list[i - 1], list[i]];
      assert.ok(prev !== undefined && cur !== undefined);
      assert.ok(prev.to <= cur.from, `leaderships overlap: ${JSON.stringify(list)}`);
    }
    assert.equal(list.length, 3, `three leaderships: ${JSON.stringify(list)}`);
    for (const c of candidates) {
      assert.ok(!c.proc.lines.some((l) => l.event === "failed"), c.proc.stderr());
    }
    await observer.close();
  });
});
