import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createApp } from "kratos-ts/app";
import { createContext } from "kratos-ts/context";
import { createMemoryRegistry } from "kratos-ts/registry";
import type { ServiceInstance } from "kratos-ts/registry";
import { createHttpServer } from "kratos-ts/transport/http";

const ctx = createContext();

function instance(id: string): ServiceInstance {
  return { id, name: "helloworld", version: "v1", metadata: {}, endpoints: [`http://h${id}:1`] };
}

describe("memory registry", () => {
  it("lists registered instances per service name", async () => {
    const registry = createMemoryRegistry();
    await registry.register(ctx, instance("1"));
    await registry.register(ctx, { ...instance("2"), name: "other" });
    assert.deepEqual(await registry.getService(ctx, "helloworld"), [instance("1")]);
    await registry.deregister(ctx, instance("1"));
    assert.deepEqual(await registry.getService(ctx, "helloworld"), []);
  });

  it("a watcher returns the current list first, then each change", async () => {
    const registry = createMemoryRegistry();
    await registry.register(ctx, instance("1"));
    const watcher = await registry.watch(ctx, "helloworld");
    assert.deepEqual(await watcher.next(), [instance("1")]);
    const next = watcher.next();
    await registry.register(ctx, instance("2"));
    assert.deepEqual(await next, [instance("1"), instance("2")]);
    await registry.deregister(ctx, instance("1"));
    assert.deepEqual(await watcher.next(), [instance("2")]);
    const pending = watcher.next();
    await watcher.stop();
    await assert.rejects(pending, /watcher stopped/);
  });

  it("gets the app's instance with its real endpoints while it runs", async () => {
    const registry = createMemoryRegistry();
    const http = createHttpServer({ addr: "127.0.0.1:0" });
    const seen: ServiceInstance[][] = [];
    const app = createApp({
      id: "a-1",
      name: "helloworld",
      version: "v1",
      signals: [],
      servers: [http],
      registrar: registry,
      afterStart: [
        async () => {
          seen.push(await registry.getService(ctx, "helloworld"));
          void app.stop();
        },
      ],
    });
    await app.run();
    assert.deepEqual(seen, [
      [
        {
          id: "a-1",
          name: "helloworld",
          version: "v1",
          metadata: {},
          endpoints: [`http://127.0.0.1:${http.endpoint().port}`],
        },
      ],
    ]);
    assert.deepEqual(await registry.getService(ctx, "helloworld"), [], "deregistered on stop");
  });
});
