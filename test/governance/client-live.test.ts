// The client settings `npm run client` follows live (`client.balancer`, `client.breaker`), over
// real sockets: the config file is edited while a gRPC client calls two servers, and the next
// calls run under the new balancer and the new breaker settings, as cmd/client wires them.
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { followLive } from "kratos-ts/config";
import type { Config } from "kratos-ts/config";
import { serviceUnavailable } from "kratos-ts/errors";
import { circuitBreaker, liveSreBreaker } from "kratos-ts/middleware";
import { liveBalancer } from "kratos-ts/selector";
import { clientTransport } from "kratos-ts/transport";
import { createGrpcClient, createGrpcServer } from "kratos-ts/transport/grpc";
import type { GrpcServer } from "kratos-ts/transport/grpc";
import { breakerParser, parseBalancer } from "../../cmd/client/live.js";
import { loadConfig } from "../../cmd/server/config.js";
import { EchoService } from "../fixtures/http/gen/echo/v1/echo_pb.js";
import { eventually } from "../helpers/etcd.js";
import { outcome } from "../helpers/outcome.js";
import { tempDir } from "../helpers/repo.js";

/** A server that answers after `delayMs`, or fails with 503 DOWN while `down`. */
async function echoServer(state: { delayMs: number; down: boolean }): Promise<GrpcServer> {
  const server = createGrpcServer({ addr: "127.0.0.1:0" });
  server.register(EchoService, {
    say: async (req) => {
      if (state.down) throw serviceUnavailable("DOWN", "down for now");
      if (state.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, state.delayMs));
      return { sentence: req.sentence };
    },
  });
  await server.start();
  return server;
}

function writeClientConfig(dir: string, lines: string[]): void {
  mkdirSync(join(dir, "configs"), { recursive: true });
  writeFileSync(join(dir, "configs", "config.yaml"), `${["client:", ...lines].join("\n")}\n`);
}

describe("client.balancer and client.breaker changed live", { timeout: 60_000 }, () => {
  it("the next calls use the new balancer, then the new breaker settings", async () => {
    const dir = tempDir("kratos-ts-client-live-");
    const fastState = { delayMs: 0, down: false };
    const slowState = { delayMs: 25, down: false };
    const fast = await echoServer(fastState);
    const slow = await echoServer(slowState);
    let config: Config | undefined;
    try {
      writeClientConfig(dir.path, ["  balancer: wrr"]);
      config = await loadConfig(join(dir.path, "configs"), "KRATOS_TS_CLIENT_LIVE_TEST_");
      const live = config;
      const balancer = followLive(live, "client.balancer", parseBalancer);
      const breaker = followLive(live, "client.breaker", breakerParser(live));
      let served = "";
      const client = createGrpcClient(EchoService, {
        endpoint: `direct:///${fast.endpoint().host},${slow.endpoint().host}`,
        selector: { balancer: liveBalancer(() => balancer.current) },
        middleware: [
          circuitBreaker.client({ breakerFor: () => liveSreBreaker(() => breaker.current) }),
          (next) => async (ctx, req) => {
            const reply = await next(ctx, req);
            served = clientTransport(ctx)?.endpoint ?? "";
            return reply;
          },
        ],
      });
      const hosts = async (n: number): Promise<string[]> => {
        const seen: string[] = [];
        for (let i = 0; i < n; i++) {
          await client.say({ sentence: "hi" });
          seen.push(new URL(served).host);
        }
        return seen;
      };
      try {
        // wrr with equal weights takes turns, whatever the latency.
        const turns = await hosts(10);
        for (let i = 1; i < turns.length; i++) assert.notEqual(turns[i], turns[i - 1]);

        // p2c: once it has measured both, the fast node takes most calls.
        writeClientConfig(dir.path, ["  balancer: p2c"]);
        const started = performance.now();
        await eventually("p2c applied", () => balancer.current === "p2c", 5_000);
        assert.ok(performance.now() - started < 1000, "applied within a second");
        await hosts(10);
        const p2c = await hosts(40);
        const onFast = p2c.filter((h) => h === fast.endpoint().host).length;
        assert.ok(onFast >= 30, `${onFast} of 40 on the fast node`);

        // Both down: with min_requests 4 and K 1 the breaker soon rejects calls itself.
        fastState.down = true;
        slowState.down = true;
        writeClientConfig(dir.path, ["  balancer: p2c", "  breaker: { k: 1, min_requests: 4 }"]);
        await eventually(
          "breaker settings applied",
          () => breaker.current.minRequests === 4,
          5_000,
        );
        const tight: string[] = [];
        for (let i = 0; i < 30; i++) tight.push(await outcome(client.say({ sentence: "hi" })));
        assert.ok(tight.includes("503 CIRCUITBREAKER"), tight.join());

        // New settings start a new window: no rejection below 1000 requests.
        writeClientConfig(dir.path, ["  balancer: p2c", "  breaker: { min_requests: 1000 }"]);
        await eventually("breaker relaxed", () => breaker.current.minRequests === 1000, 5_000);
        const loose: string[] = [];
        for (let i = 0; i < 30; i++) loose.push(await outcome(client.say({ sentence: "hi" })));
        assert.deepEqual(new Set(loose), new Set(["503 DOWN"]));
      } finally {
        client.close();
        balancer.close();
        breaker.close();
      }
    } finally {
      await config?.close();
      await fast.stop();
      await slow.stop();
      dir.remove();
    }
  });
});
