import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createContext } from "../../src/context.js";
import type { Discovery, Registrar, ServiceInstance } from "../../src/registry/registry.js";

/** A registry under test and how to dispose of it. */
export interface ContractSubject {
  registry: Registrar & Discovery;
  close(): Promise<void>;
}

/** Options of {@link registryContract}. */
export interface ContractOptions {
  /** Passed to `describe` (etcd suites skip when etcd is not installed). */
  skip?: string | false;
  /** Runs once before the suite (starting a server). */
  setup?: () => Promise<void>;
  /** Runs once after the suite. */
  teardown?: () => Promise<void>;
}

const ctx = createContext();
let services = 0;

function instance(name: string, id: string, metadata: Record<string, string> = {}) {
  return { id, name, version: "v1", metadata, endpoints: [`http://10.0.0.${id}:8000`] };
}

/**
 * What every registry must do, run against each implementation (memory, etcd): what one
 * registrar registers, a discovery (maybe another registry instance on the same store) finds,
 * and watchers see it come and go. Each test uses its own service name, so that subjects
 * sharing a store do not see each other.
 */
export function registryContract(
  title: string,
  make: () => ContractSubject | Promise<ContractSubject>,
  options: ContractOptions = {},
): void {
  describe(`registry contract: ${title}`, { skip: options.skip ?? false }, () => {
    if (options.setup !== undefined) before(options.setup);
    if (options.teardown !== undefined) after(options.teardown);
    const newName = () => `contract-${++services}`;

    it("getService lists what register put, and not what deregister removed", async () => {
      const s = await make();
      try {
        const name = newName();
        await s.registry.register(ctx, instance(name, "1"));
        await s.registry.register(ctx, { ...instance(name, "2"), name: `${name}-other` });
        assert.deepEqual(await s.registry.getService(ctx, name), [instance(name, "1")]);
        await s.registry.deregister(ctx, instance(name, "1"));
        assert.deepEqual(await s.registry.getService(ctx, name), []);
        await s.registry.deregister(ctx, { ...instance(name, "2"), name: `${name}-other` });
      } finally {
        await s.close();
      }
    });

    it("a watcher returns the current list first, then joins, updates and leaves", async () => {
      const s = await make();
      try {
        const name = newName();
        await s.registry.register(ctx, instance(name, "1"));
        const watcher = await s.registry.watch(ctx, name);
        assert.deepEqual(await watcher.next(), [instance(name, "1")]);
        const joined = watcher.next();
        await s.registry.register(ctx, instance(name, "2"));
        assert.deepEqual(await joined, [instance(name, "1"), instance(name, "2")]);
        await s.registry.register(ctx, instance(name, "2", { weight: "50" }));
        assert.deepEqual(await watcher.next(), [
          instance(name, "1"),
          instance(name, "2", { weight: "50" }),
        ]);
        await s.registry.deregister(ctx, instance(name, "1"));
        assert.deepEqual(await watcher.next(), [instance(name, "2", { weight: "50" })]);
        // A next() waiting when the watcher stops is rejected (attach the check before stop).
        const pending = assert.rejects(watcher.next(), /watcher stopped/);
        await watcher.stop();
        await pending;
        await assert.rejects(watcher.next(), /watcher stopped/);
        await s.registry.deregister(ctx, instance(name, "2"));
      } finally {
        await s.close();
      }
    });

    it("a watcher of an unknown service starts empty and sees the first instance", async () => {
      const s = await make();
      try {
        const name = newName();
        const watcher = await s.registry.watch(ctx, name);
        assert.deepEqual(await watcher.next(), []);
        await s.registry.register(ctx, instance(name, "7"));
        const seen: ServiceInstance[] = await watcher.next();
        assert.deepEqual(seen, [instance(name, "7")]);
        await watcher.stop();
        await s.registry.deregister(ctx, instance(name, "7"));
      } finally {
        await s.close();
      }
    });
  });
}
