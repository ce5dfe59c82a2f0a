// Fault injection through the middleware, in process: exact percentages with a seeded
// generator, delays that end with the call's deadline or cancellation (leaving no timer), the
// counter with the rule's name, and the event on the active span.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { context } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { MeterProvider, MetricReader } from "@opentelemetry/sdk-metrics";
import {
  InMemorySpanExporter,
  SimpleSpanProcessor,
  TracerProvider,
} from "@opentelemetry/sdk-trace";
import { createContext } from "kratos-ts/context";
import { KratosError } from "kratos-ts/errors";
import {
  createGovernanceStore,
  defaultPolicies,
  governance,
  seededRandom,
} from "kratos-ts/governance";
import type { GovernanceStore } from "kratos-ts/governance";
import { chain, tracing } from "kratos-ts/middleware";
import type { Handler } from "kratos-ts/middleware";
import { setClientTransport, setServerTransport } from "kratos-ts/transport";
import { transportFor } from "../helpers/telemetry.js";

class TestReader extends MetricReader {
  protected onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

const say = "/helloworld.v1.Greeter/SayHello";
const ok: Handler = () => Promise.resolve("ok");

function serverCall(handler: Handler, timeoutMs?: number, signal?: AbortSignal) {
  const ctx = createContext({ timeoutMs, signal });
  setServerTransport(ctx, transportFor("grpc", say));
  return handler(ctx, {});
}

function timers(): number {
  return process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
}

describe("fault injection", () => {
  it("aborts exactly the calls the seeded generator picks", async () => {
    const store = createGovernanceStore({
      random: seededRandom(7),
      rules: {
        rules: [{ name: "thirty", fault: { abort: { code: "UNAVAILABLE", percentage: 30 } } }],
      },
    });
    const handler = governance.server({ store })(ok);
    const twin = seededRandom(7);
    let expected = 0;
    let aborted = 0;
    for (let i = 0; i < 1000; i++) {
      if (twin() * 100 < 30) expected++;
      try {
        await serverCall(handler);
      } catch (err) {
        assert.ok(err instanceof KratosError);
        assert.equal(err.code, 503);
        assert.equal(err.reason, "FAULT_INJECTED");
        assert.match(err.message, /rule "thirty"/);
        aborted++;
      }
    }
    assert.equal(aborted, expected);
    assert.ok(aborted > 250 && aborted < 350, `${aborted} of 1000`);
  });

  it("answers the rule's code, reason and message", async () => {
    const store = createGovernanceStore({
      rules: {
        rules: [
          { name: "r", fault: { abort: { code: 429, reason: "DRILL", message: "chaos drill" } } },
        ],
      },
    });
    await assert.rejects(serverCall(governance.server({ store })(ok)), {
      code: 429,
      reason: "DRILL",
      message: "chaos drill",
    });
  });

  it("delays a call, then runs it", async () => {
    const store = createGovernanceStore({
      rules: { rules: [{ name: "slow", fault: { delay: { duration: "30ms" } } }] },
    });
    const start = performance.now();
    assert.equal(await serverCall(governance.server({ store })(ok)), "ok");
    assert.ok(performance.now() - start >= 29);
  });

  it("ends a delay at the call's deadline (504) and at cancellation (499), leaving no timer", async () => {
    const store = createGovernanceStore({
      rules: { rules: [{ name: "slow", fault: { delay: { duration: "10m" } } }] },
    });
    const handler = governance.server({ store })(ok);
    const before = timers();
    await assert.rejects(serverCall(handler, 20), { name: "TimeoutError" });
    const cancel = new AbortController();
    const call = serverCall(handler, undefined, cancel.signal);
    cancel.abort(new DOMException("gone", "AbortError"));
    await assert.rejects(call, { name: "AbortError" });
    assert.equal(timers(), before, "the delay's timers are cleared");
  });

  it("runs on the client side with side: client, and not on the server", async () => {
    const store = createGovernanceStore({
      rules: { rules: [{ name: "c", match: { side: "client" }, fault: { abort: { code: 503 } } }] },
    });
    assert.equal(await serverCall(governance.server({ store })(ok)), "ok");
    const ctx = createContext();
    setClientTransport(ctx, transportFor("http", say));
    await assert.rejects(governance.client({ store })(ok)(ctx, {}), { code: 503 });
  });

  it("lets a call finish under the rules it started with", async () => {
    const store = createGovernanceStore({
      rules: {
        rules: [{ name: "slow", fault: { delay: { duration: "30ms" }, abort: { code: 503 } } }],
      },
    });
    const handler = governance.server({ store })(ok);
    const call = serverCall(handler);
    assert.ok(store.update(undefined));
    await assert.rejects(call, { code: 503 }, "the started call keeps its abort");
    assert.equal(await serverCall(handler), "ok");
  });

  it("counts faults with the rule's name and marks the span", async () => {
    const reader = new TestReader();
    const meterProvider = new MeterProvider({ readers: [reader] });
    const exporter = new InMemorySpanExporter();
    const tracerProvider = new TracerProvider({
      spanProcessors: [new SimpleSpanProcessor({ exporter })],
    });
    const manager = new AsyncLocalStorageContextManager();
    context.setGlobalContextManager(manager.enable());
    try {
      const store: GovernanceStore = createGovernanceStore({
        policies: defaultPolicies({ meterProvider }),
        rules: {
          rules: [{ name: "drill", fault: { delay: { duration: "1ms" }, abort: { code: 503 } } }],
        },
      });
      const handler = chain(tracing.server({ tracerProvider }), governance.server({ store }))(ok);
      await assert.rejects(serverCall(handler), { code: 503 });
      await assert.rejects(serverCall(handler), { code: 503 });
      const { resourceMetrics } = await reader.collect();
      const metric = resourceMetrics.scopeMetrics
        .flatMap((s) => s.metrics)
        .find((m) => m.descriptor.name === "governance_faults_total");
      assert.ok(metric !== undefined, "governance_faults_total is recorded");
      const points = metric.dataPoints.map((p) => [
        p.attributes["rule"],
        p.attributes["fault"],
        p.attributes["side"],
        p.attributes["operation"],
        p.value,
      ]);
      assert.deepEqual(points.sort(), [
        ["drill", "abort", "server", say, 2],
        ["drill", "delay", "server", say, 2],
      ]);
      const span = exporter.getFinishedSpans()[0];
      assert.deepEqual(
        span?.events.map((e) => [
          e.name,
          e.attributes?.["governance.rule"],
          e.attributes?.["governance.fault"],
        ]),
        [
          ["governance.fault", "drill", "delay"],
          ["governance.fault", "drill", "abort"],
        ],
      );
    } finally {
      context.disable();
      await meterProvider.shutdown();
    }
  });
});
