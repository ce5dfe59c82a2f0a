// cmd/client's live settings: `client.balancer` and `client.breaker` checked whole, with the
// file and key named on a bad value.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { createConfig, fileSource } from "kratos-ts/config";
import type { Config } from "kratos-ts/config";
import { breakerParser, parseBalancer } from "../../cmd/client/live.js";
import { tempDir } from "../helpers/repo.js";

async function withConfig(yaml: string, use: (config: Config, file: string) => void) {
  const dir = tempDir("kratos-ts-client-live-");
  const file = join(dir.path, "config.yaml");
  writeFileSync(file, yaml);
  const config = createConfig({ sources: [fileSource(file)], watch: false });
  try {
    await config.load();
    use(config, file);
  } finally {
    await config.close();
    dir.remove();
  }
}

describe("cmd/client live settings", () => {
  it("reads the balancer, p2c by default, and names the key of an unknown one", async () => {
    await withConfig("client: { balancer: wrr }\n", (config) => {
      assert.equal(parseBalancer(config.value("client.balancer")), "wrr");
      assert.equal(parseBalancer(config.value("nothing.here")), "p2c");
    });
    await withConfig("client: { balancer: round_robin }\n", (config, file) => {
      assert.throws(() => parseBalancer(config.value("client.balancer")), {
        message: `${file}: client.balancer: unknown balancer "round_robin" (p2c, wrr, random)`,
      });
    });
  });

  it("reads the breaker's settings and refuses bad ones by key", async () => {
    await withConfig("client:\n  breaker: { k: 2, window: 5s, min_requests: 10 }\n", (config) => {
      const parse = breakerParser(config);
      assert.deepEqual(parse(config.value("client.breaker")), {
        k: 2,
        window: 5000,
        minRequests: 10,
      });
    });
    await withConfig("client:\n  breaker: { k: 2, windw: 5s }\n", (config, file) => {
      assert.throws(() => breakerParser(config)(config.value("client.breaker")), {
        message: `${file}: client.breaker.windw: unknown key (known: k, window, buckets, min_requests)`,
      });
    });
    await withConfig("client:\n  breaker: { k: 0.5 }\n", (config, file) => {
      assert.throws(() => breakerParser(config)(config.value("client.breaker")), {
        message: `${file}: client.breaker: sre breaker: k 0.5 is not a finite number >= 1`,
      });
    });
  });
});
