// The bundle `npm start` runs (scripts/bundle-service.mjs, dist/bundle/server/) keeps what the
// compiled tree does with its own file's URL: the OpenAPI document (api/openapi.yaml next to the
// project), the SQLite checkpoint worker (dist/internal/data/checkpoint-worker.js), the kit's
// version (its package.json) and the project's; and its stack traces name the .ts sources under
// --enable-source-maps. The other e2e tests run the bundle too (test/helpers/service.ts).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { describe, it } from "node:test";
import { eventually } from "../helpers/etcd.js";
import { repoRoot, tempDir } from "../helpers/repo.js";
import { serviceMain, spawnService, startService, writeLayoutConfig } from "../helpers/service.js";

const kitVersion = (
  JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as {
    version: string;
  }
).version;

describe("the service bundle", { timeout: 60_000 }, () => {
  it("is what the helpers start, as npm start does", () => {
    assert.equal(serviceMain, join(repoRoot, "dist", "bundle", "server", "main.js"));
  });

  it("serves the OpenAPI document, checkpoints a database file off the event loop, and reports the versions", async () => {
    const dir = tempDir("kratos-ts-bundle-");
    try {
      writeLayoutConfig(dir.path);
      const service = await startService(["-conf", "./configs"], dir.path, {
        HELLOWORLD_SERVER__HTTP__OPENAPI: "true",
        HELLOWORLD_DATA__DATABASE__SOURCE: "./greetings.db",
      });
      const openapi = await fetch(new URL("/openapi.yaml", service.http));
      assert.equal(openapi.status, 200);
      assert.match(await openapi.text(), /^openapi: 3\./);
      const created = await fetch(new URL("/v1/greetings", service.http), {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ name: "kratos" }),
      });
      assert.equal(created.status, 200);
      // The instrumentation scope carries the kit's version, read from its package.json.
      const metrics = await (await fetch(new URL("/metrics", service.http))).text();
      assert.match(
        metrics,
        new RegExp(`otel_scope_version="${kitVersion.replaceAll(".", "\\.")}"`),
      );
      service.child.kill("SIGTERM");
      assert.equal(await service.exited, 0);
      // The project's version, from the nearest package.json above the entry point.
      assert.ok(service.lines.every((l) => l["service.version"] === kitVersion));
      // A worker that cannot load (a path resolved from the bundle's folder) logs this warning.
      const failed = service.lines.filter((l) => String(l["msg"]).includes("checkpointer failed"));
      assert.deepEqual(failed, []);
    } finally {
      dir.remove();
    }
  });

  it("exports its spans to an OTLP endpoint (the exporter's lazy import of node:http works)", async () => {
    // A split bundle once gave `await import("node:http")` only `default`: the OTLP exporter
    // read no `request` or `Agent`, and every export failed without a word.
    const bodies: string[] = [];
    const collector = createServer((req, res) => {
      let body = "";
      req.on("data", (chunk: Buffer) => (body += chunk.toString("utf8")));
      req.on("end", () => {
        bodies.push(body);
        res.writeHead(200, { "content-type": "application/json" }).end("{}");
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, "127.0.0.1", resolve));
    const dir = tempDir("kratos-ts-bundle-otlp-");
    try {
      const { port } = collector.address() as AddressInfo;
      writeLayoutConfig(dir.path);
      const service = await startService(["-conf", "./configs"], dir.path, {
        HELLOWORLD_TELEMETRY__OTLP_ENDPOINT: `http://127.0.0.1:${port}/v1/traces`,
      });
      const reply = await fetch(new URL("/helloworld/otlp", service.http));
      assert.equal(reply.status, 200);
      // The graceful stop flushes the batch of spans.
      service.child.kill("SIGTERM");
      assert.equal(await service.exited, 0);
      await eventually("the span to reach the collector", () =>
        bodies.some((b) => b.includes("/helloworld.v1.Greeter/SayHello")),
      );
    } finally {
      dir.remove();
      await new Promise((resolve) => collector.close(resolve));
    }
  });

  it("names the TypeScript sources in stack traces under --enable-source-maps", async () => {
    const dir = tempDir("kratos-ts-bundle-maps-");
    try {
      writeLayoutConfig(dir.path);
      const service = spawnService(["-conf", "./configs"], dir.path, {
        NODE_OPTIONS: "--enable-source-maps",
        HELLOWORLD_LOG__LEVEL: "debug",
        HELLOWORLD_SERVER__HTTP__ADDR: "127.0.0.1:x",
      });
      assert.equal(await service.exited, 1);
      const stderr = service.stderr();
      assert.match(stderr, /bad port "x"/);
      assert.match(stderr, /\bsrc\/internal\/listen\.ts:\d+:\d+/);
      assert.match(stderr, /\bcmd\/server\/main\.ts:\d+:\d+/);
    } finally {
      dir.remove();
    }
  });
});
