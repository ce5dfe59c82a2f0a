// A SIGTERM during load on HTTP/1.1 keep-alive connections loses no request: every request sent
// is answered, or refused before any server accepted it (a new connection to a closed port), so
// a client may safely send it again. Both ports' HTTP/1.1 sides are loaded (the HTTP port, and
// Connect on the gRPC port), on a server in a process of its own stopped as a service is.
import assert from "node:assert/strict";
import http from "node:http";
import { describe, it } from "node:test";
import { startTarget } from "../helpers/target.js";

interface Outcome {
  ok: number;
  refused: number;
  lost: string[];
}

/** One client connection sending requests back to back, until the server refuses it. */
async function worker(
  agent: http.Agent,
  request: () => http.RequestOptions & { body?: string },
  outcome: Outcome,
  onAnswer: () => void,
): Promise<void> {
  for (;;) {
    const { body, ...options } = request();
    // "ok", "refused", or what went wrong.
    const result = await new Promise<string>((resolve) => {
      const req = http.request({ ...options, agent }, (res) => {
        res.resume();
        res.on("end", () => {
          resolve(res.statusCode === 200 ? "ok" : `status ${String(res.statusCode)}`);
        });
        res.on("error", (err) => {
          resolve(`response ${err.message}`);
        });
      });
      req.on("error", (err: Error & { code?: string }) => {
        resolve(err.code === "ECONNREFUSED" ? "refused" : `${err.code ?? ""} ${err.message}`);
      });
      req.end(body);
    });
    if (result === "ok") {
      outcome.ok++;
      onAnswer();
    } else if (result === "refused") {
      outcome.refused++;
      return;
    } else {
      outcome.lost.push(result);
      return;
    }
  }
}

describe("graceful stop under load", () => {
  it("loses no request on HTTP/1.1 keep-alive connections when SIGTERM arrives", async () => {
    const target = await startTarget();
    const outcome: Outcome = { ok: 0, refused: 0, lost: [] };
    const workers = 8;
    let stopped = false;
    // SIGTERM once the load runs on every connection: after enough answers, not after a sleep.
    let stop!: () => void;
    const loaded = new Promise<void>((resolve) => (stop = resolve));
    const onAnswer = () => {
      if (outcome.ok >= 400 && !stopped) stop();
    };
    const httpAgent = new http.Agent({ keepAlive: true, maxSockets: workers });
    const connectAgent = new http.Agent({ keepAlive: true, maxSockets: workers });
    const httpRequest = () => ({ port: target.httpPort, host: "127.0.0.1", path: "/v1/ping" });
    const connectRequest = () => ({
      port: target.grpcPort,
      host: "127.0.0.1",
      method: "POST",
      path: "/grpc.health.v1.Health/Check",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    const running = Promise.all([
      ...Array.from({ length: workers }, () => worker(httpAgent, httpRequest, outcome, onAnswer)),
      ...Array.from({ length: workers }, () =>
        worker(connectAgent, connectRequest, outcome, onAnswer),
      ),
    ]);
    await loaded;
    stopped = true;
    const okAtStop = outcome.ok;
    const exit = target.stop(30_000);
    await running;
    httpAgent.destroy();
    connectAgent.destroy();
    assert.equal(await exit, 0, target.stderr());
    assert.deepEqual(outcome.lost, [], `lost requests (answered ${outcome.ok})`);
    assert.equal(outcome.refused, workers * 2, "every connection ends refused, none reset");
    assert.ok(outcome.ok > okAtStop, "requests in flight at SIGTERM were answered");
  });
});
