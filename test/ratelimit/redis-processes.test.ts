// The Done-when line of issue 23 for rate limits: two service processes share one Redis limit
// of N per second (together they admit N +- 10% per second under a steady caller); with Redis
// stopped mid-test both keep serving under their local fallback (no 5xx, each at the local
// rate) after one warning each; with Redis back the shared limit resumes.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { redisSkip, startRedis } from "../helpers/redis.js";
import type { RedisServer } from "../helpers/redis.js";
import { repoRoot } from "../helpers/repo.js";
import { spawnLogged } from "../helpers/service.js";
import type { LogLine, ServiceProcess } from "../helpers/service.js";

const fixture = join(repoRoot, "dist", "test", "ratelimit", "fixtures", "limited-server.js");

// 50/s measured over 3 s: at 150 admitted calls, one call of jitter at either window edge is
// under 1%, and the callers (100 calls/s per process) stay far above the limit even when both
// cores are busy.
const rate = 50;
const callsPerSecond = 100;
const window = 3000;
// Half a second of tokens: a caller stalled by a busy core for less than that loses no tokens
// (a smaller bucket would overflow during the stall, and the limit would read low).
const burst = rate / 2;

interface Outcome {
  /** When the server admitted it (an admitted call), or when the answer arrived; epoch ms. */
  at: number;
  server: number;
  status: number;
}

/** Calls each server at a steady pace until stopped; records every answer. */
function steadyCaller(urls: readonly URL[]) {
  const outcomes: Outcome[] = [];
  let running = true;
  const loops = urls.map(async (url, server) => {
    const interval = 1000 / callsPerSecond;
    let next = performance.now();
    const inFlight = new Set<Promise<void>>();
    while (running) {
      const call = fetch(url).then(
        async (res) => {
          await res.arrayBuffer();
          const admittedAt = Number(res.headers.get("x-admitted-at") ?? Number.NaN);
          const at = Number.isNaN(admittedAt) ? Date.now() : admittedAt;
          outcomes.push({ at, server, status: res.status });
        },
        () => {
          outcomes.push({ at: Date.now(), server, status: 0 });
        },
      );
      inFlight.add(call);
      void call.finally(() => inFlight.delete(call));
      // Paced by the clock, not by the answers: a slow answer does not slow the caller.
      next += interval;
      await delay(Math.max(0, next - performance.now()));
    }
    await Promise.all(inFlight);
  });
  return {
    outcomes,
    /** Admitted calls and statuses seen in [from, from + window). */
    measure(from: number, server?: number) {
      const seen = outcomes.filter(
        (o) =>
          o.at >= from && o.at < from + window && (server === undefined || o.server === server),
      );
      return {
        admitted: seen.filter((o) => o.status === 200).length,
        statuses: [...new Set(seen.map((o) => o.status))].sort(),
      };
    },
    /**
     * Resolves once every server has admitted a call well past `until` (and the test has read
     * it): the admissions of the window before it have been read too.
     */
    async reach(until: number) {
      const past = (server: number) =>
        outcomes.some((o) => o.server === server && o.status === 200 && o.at >= until + 250);
      while (!urls.every((_, server) => past(server))) await delay(20);
    },
    /** Resolves once every server has refused a call: the initial burst is spent. */
    async limited() {
      while (
        !urls.every((_, server) => outcomes.some((o) => o.server === server && o.status === 429))
      ) {
        await delay(20);
      }
    },
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

function assertRate(
  admitted: number,
  perSecond: number,
  what: string,
  report: (m: string) => void,
) {
  const measured = admitted / (window / 1000);
  report(`${what}: ${measured.toFixed(1)}/s admitted (limit ${perSecond}/s)`);
  assert.ok(
    Math.abs(measured - perSecond) <= perSecond * 0.1,
    `${what}: ${measured.toFixed(1)}/s admitted, want ${perSecond}/s +- 10%`,
  );
}

const isWarning = (l: LogLine) =>
  l["level"] === "warn" && String(l["msg"]).includes("Redis unreachable");
const isResumed = (l: LogLine) => String(l["msg"]).includes("shared limit resumed");

describe("a Redis limit shared by two processes", { skip: redisSkip(), timeout: 90_000 }, () => {
  let redis: RedisServer;
  const services: ServiceProcess[] = [];

  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    for (const s of services) {
      s.child.kill("SIGTERM");
      await s.exited;
    }
    await redis.close();
  });

  it("admits N per second together, falls back locally without Redis, and resumes", async (t) => {
    const report = (m: string) => {
      t.diagnostic(m);
    };
    const env = {
      ...process.env,
      REDIS_URL: redis.url,
      RATE: String(rate),
      BURST: String(burst),
      TIMEOUT: "1000",
    };
    for (let i = 0; i < 2; i++)
      services.push(spawnLogged(process.execPath, [fixture], repoRoot, env));
    const urls = await Promise.all(
      services.map(async (s) => {
        const line = await s.waitForLine((l) => l["msg"] === "limited server started");
        return new URL("/hello", String(line["endpoint"]));
      }),
    );
    const caller = steadyCaller(urls);
    try {
      // Shared: once the initial burst is spent, one window.
      await caller.limited();
      const shared = Date.now() + 250;
      await caller.reach(shared + window);
      const before = caller.measure(shared);
      assert.deepEqual(
        services.map((s) => s.lines.filter(isWarning).length),
        [0, 0],
        `no fallback while Redis is up: ${JSON.stringify(services.map((s) => s.lines.filter(isWarning)))}`,
      );
      assertRate(before.admitted, rate, "shared, both processes together", report);
      assert.deepEqual(before.statuses, [200, 429]);

      // Redis stopped: each process falls back to its own bucket of the same rate.
      await redis.stop();
      await Promise.all(services.map((s) => s.waitForLine(isWarning)));
      const outage = Date.now() + 500;
      await caller.reach(outage + window);
      for (const server of [0, 1]) {
        const during = caller.measure(outage, server);
        assertRate(during.admitted, rate, `fallback, process ${server}`, report);
        assert.deepEqual(
          during.statuses,
          [200, 429],
          "no 5xx and no failed call during the outage",
        );
      }

      // Redis back: the processes find it within a probe interval or so and share again.
      await redis.restart();
      await Promise.all(services.map((s) => s.waitForLine(isResumed)));
      const resumed = Date.now() + 500;
      await caller.reach(resumed + window);
      const afterwards = caller.measure(resumed);
      assertRate(afterwards.admitted, rate, "shared again, both processes together", report);
      assert.deepEqual(afterwards.statuses, [200, 429]);
    } finally {
      await caller.stop();
    }
    for (const s of services) {
      assert.equal(s.lines.filter(isWarning).length, 1, "one warning per process");
      assert.deepEqual(
        s.lines.filter((l) => l["level"] === "error"),
        [],
      );
    }
  });
});
