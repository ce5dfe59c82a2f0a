import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createContext } from "../../src/context.js";
import { KratosError } from "../../src/errors/error.js";
import { reasons } from "../../src/errors/reasons.js";
import { discoveryResolver } from "../../src/registry/discovery-resolver.js";
import { createMemoryRegistry } from "../../src/registry/memory.js";
import type { Discovery, ServiceInstance, Watcher } from "../../src/registry/registry.js";
import type { Node } from "../../src/selector/selector.js";
import { resolverFor } from "../../src/transport/resolver.js";

const ctx = createContext();

function instance(id: string, endpoints: string[], name = "helloworld"): ServiceInstance {
  return { id, name, version: "v1", metadata: {}, endpoints };
}

const never = new AbortController().signal;

function hrefs(nodes: readonly Node[]): string[] {
  return nodes.map(({ url }) => `${url.protocol}//${url.host}`).sort();
}

/** A Discovery whose watchers the test can count, to see that close stops them. */
function countingDiscovery(inner: Discovery): Discovery & { open: number } {
  const counter = {
    open: 0,
    getService: (c: typeof ctx, name: string) => inner.getService(c, name),
    async watch(c: typeof ctx, name: string): Promise<Watcher> {
      const watcher = await inner.watch(c, name);
      counter.open++;
      return {
        next: () => watcher.next(),
        stop: () => {
          counter.open--;
          return watcher.stop();
        },
      };
    },
  };
  return counter;
}

describe("discovery resolver", () => {
  it("resolves at once when the service has instances, keeping the endpoints of its scheme", async () => {
    const registry = createMemoryRegistry();
    await registry.register(
      ctx,
      instance("1", ["http://10.0.0.1:8000", "grpc://10.0.0.1:9000", "not a url"]),
    );
    await registry.register(ctx, instance("2", ["grpc://10.0.0.2:9000"]));
    const grpc = discoveryResolver({ discovery: registry, name: "helloworld", scheme: "grpc" });
    const http = discoveryResolver({ discovery: registry, name: "helloworld", scheme: "http" });
    try {
      assert.deepEqual(hrefs(await grpc.resolve(never)), [
        "grpc://10.0.0.1:9000",
        "grpc://10.0.0.2:9000",
      ]);
      assert.deepEqual(hrefs(await http.resolve(never)), ["http://10.0.0.1:8000"]);
    } finally {
      grpc.close?.();
      http.close?.();
    }
  });

  it("waits for the first instance instead of failing", async () => {
    const registry = createMemoryRegistry();
    const resolver = discoveryResolver({ discovery: registry, name: "helloworld", scheme: "grpc" });
    try {
      const pending = resolver.resolve(never);
      // Only an instance without a grpc endpoint so far: still waiting.
      await registry.register(ctx, instance("1", ["http://10.0.0.1:8000"]));
      await registry.register(ctx, instance("2", ["grpc://10.0.0.2:9000"]));
      assert.deepEqual(hrefs(await pending), ["grpc://10.0.0.2:9000"]);
    } finally {
      resolver.close?.();
    }
  });

  it("rejects with 503 NODE_NOT_FOUND when the call's deadline passes first", async () => {
    const registry = createMemoryRegistry();
    const resolver = discoveryResolver({ discovery: registry, name: "helloworld", scheme: "grpc" });
    try {
      const err = await resolver.resolve(AbortSignal.timeout(50)).then(
        () => assert.fail("resolved with no instance"),
        (e: unknown) => e,
      );
      assert.ok(err instanceof KratosError);
      assert.equal(err.code, 503);
      assert.equal(err.reason, reasons.nodeNotFound);
      assert.match(err.message, /no instance of helloworld was found/);
    } finally {
      resolver.close?.();
    }
  });

  it("an update with no endpoint keeps the last known list; a change replaces it", async () => {
    const registry = createMemoryRegistry();
    const one = instance("1", ["grpc://10.0.0.1:9000"]);
    await registry.register(ctx, one);
    const watcher = await registry.watch(ctx, "helloworld");
    const resolver = discoveryResolver({ discovery: registry, name: "helloworld", scheme: "grpc" });
    try {
      const first = await resolver.resolve(never);
      assert.deepEqual(hrefs(first), ["grpc://10.0.0.1:9000"]);
      await watcher.next(); // the list at watch time
      await registry.deregister(ctx, one);
      // Our own watcher saw the empty update, and the resolver's got it in the same tick.
      assert.deepEqual(await watcher.next(), []);
      assert.equal(await resolver.resolve(never), first);
      await registry.register(ctx, instance("2", ["grpc://10.0.0.2:9000"]));
      await watcher.next();
      assert.deepEqual(hrefs(await resolver.resolve(never)), ["grpc://10.0.0.2:9000"]);
    } finally {
      resolver.close?.();
      await watcher.stop();
    }
  });

  it("a changed weight is a new list; the same instance put again is not", async () => {
    const registry = createMemoryRegistry();
    const one = { ...instance("1", ["grpc://10.0.0.1:9000"]), metadata: { weight: "10" } };
    await registry.register(ctx, one);
    const watcher = await registry.watch(ctx, "helloworld");
    const resolver = discoveryResolver({ discovery: registry, name: "helloworld", scheme: "grpc" });
    try {
      const first = await resolver.resolve(never);
      assert.equal(first[0]?.weight, 10);
      await watcher.next();
      await registry.register(ctx, { ...one, metadata: { weight: "10" } });
      await watcher.next();
      assert.equal(await resolver.resolve(never), first);
      await registry.register(ctx, { ...one, metadata: { weight: "30" } });
      await watcher.next();
      const second = await resolver.resolve(never);
      assert.notEqual(second, first);
      const [node] = second;
      assert.deepEqual(
        [node?.weight, node?.instance],
        [30, { ...one, metadata: { weight: "30" } }],
      );
    } finally {
      resolver.close?.();
      await watcher.stop();
    }
  });

  it("takes the service name from the client's discovery:/// endpoint", async () => {
    const registry = createMemoryRegistry();
    await registry.register(ctx, instance("1", ["grpc://10.0.0.1:9000"], "greeter"));
    const shared = discoveryResolver({ discovery: registry, scheme: "grpc" });
    await assert.rejects(shared.resolve(never), /no service name/);
    const resolver = resolverFor("discovery:///greeter", "grpc", ["grpc"], shared);
    try {
      assert.deepEqual(hrefs(await resolver.resolve(never)), ["grpc://10.0.0.1:9000"]);
    } finally {
      resolver.close?.();
    }
    assert.throws(() => resolverFor("discovery:///", "grpc", ["grpc"], shared), /no service name/);
  });

  it("close stops the watch and fails the calls still waiting", async () => {
    const discovery = countingDiscovery(createMemoryRegistry());
    const resolver = discoveryResolver({ discovery, name: "helloworld", scheme: "grpc" });
    const pending = resolver.resolve(never);
    // watch() is asynchronous: wait (bounded) until the resolver has opened its watcher.
    const deadline = Date.now() + 2_000;
    while (discovery.open === 0 && Date.now() < deadline) {
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.equal(discovery.open, 1);
    resolver.close?.();
    assert.equal(discovery.open, 0);
    await assert.rejects(
      resolver.resolve(never),
      (err: unknown) => err instanceof KratosError && err.reason === reasons.nodeNotFound,
    );
    // The call that was already waiting ends too, instead of hanging until its deadline.
    await assert.rejects(pending, /closed/);
  });
});
