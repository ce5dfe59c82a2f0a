// Live settings read per call: ratelimit's `enabled` switch, liveSreBreaker's settings and
// followLive over a config file (a bad change keeps the last good value, with one warning).
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { createConfig, fileSource, followLive, liveValue } from "../../src/config/index.js";
import { createContext } from "../../src/context.js";
import { KratosError } from "../../src/errors/error.js";
import { createLogger } from "../../src/log/index.js";
import { liveSreBreaker } from "../../src/middleware/live-breaker.js";
import type { SreBreakerSettings } from "../../src/middleware/live-breaker.js";
import { ratelimit } from "../../src/middleware/ratelimit.js";
import { tempDir } from "../helpers/repo.js";

describe("ratelimit.server enabled switch", () => {
  it("sheds only while enabled, read on every call", async () => {
    const on = liveValue(false);
    let asked = 0;
    // A limiter that sheds everything: whether it is asked shows whether BBR is on.
    const limiter = {
      allow() {
        asked++;
        return undefined;
      },
    };
    const handler = ratelimit.server({ limiter, enabled: () => on.current })(() =>
      Promise.resolve("ok"),
    );
    assert.equal(await handler(createContext(), {}), "ok");
    assert.equal(asked, 0);
    on.set(true);
    await assert.rejects(
      handler(createContext(), {}),
      (err: unknown) =>
        err instanceof KratosError && err.code === 429 && err.reason === "RATELIMIT",
    );
    on.set(false);
    assert.equal(await handler(createContext(), {}), "ok");
    assert.equal(asked, 1);
  });
});

describe("liveSreBreaker", () => {
  it("starts a new window under new settings", () => {
    const t = 0;
    const settings = liveValue<SreBreakerSettings>({ k: 1, minRequests: 10, window: 1000 });
    const breaker = liveSreBreaker(() => settings.current, { now: () => t, random: () => 0 });
    for (let i = 0; i < 50; i++) breaker.markFailure();
    assert.equal(breaker.allow(), false, "rejects after 50 failures over minRequests 10");
    settings.set({ k: 1, minRequests: 1000, window: 1000 });
    assert.equal(breaker.allow(), true, "a new breaker under minRequests 1000");
  });
});

describe("followLive", () => {
  it("applies good changes and keeps the last good value on a bad one", async () => {
    const dir = tempDir("kratos-ts-live-");
    const file = join(dir.path, "config.yaml");
    writeFileSync(file, "client: { balancer: wrr }\n");
    const config = createConfig({ sources: [fileSource(file)] });
    const lines: Record<string, unknown>[] = [];
    const logger = createLogger({
      destination: {
        write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>),
      },
    });
    try {
      await config.load();
      const names = ["p2c", "wrr", "random"];
      const live = followLive(
        config,
        "client.balancer",
        (v) => {
          const name = v.string();
          if (!names.includes(name)) throw new Error(`${v.path}: unknown balancer "${name}"`);
          return name;
        },
        { logger },
      );
      assert.equal(live.current, "wrr");
      const until = async (test: () => boolean) => {
        const end = performance.now() + 5000;
        while (!test()) {
          assert.ok(performance.now() < end, JSON.stringify(lines));
          await new Promise((r) => setTimeout(r, 10));
        }
      };
      writeFileSync(file, "client: { balancer: random }\n");
      await until(() => live.current === "random");
      writeFileSync(file, "client: { balancer: round_robin }\n");
      await until(() => lines.some((l) => l["level"] === "warn"));
      assert.equal(
        lines.find((l) => l["level"] === "warn")?.["msg"],
        'client.balancer: unknown balancer "round_robin"; keeping the last good settings',
      );
      assert.equal(live.current, "random");
      live.close();
    } finally {
      await config.close();
      dir.remove();
    }
  });
});
