// The tracer provider startTelemetry installs when no exporter is set: the span contexts the
// SDK would make (ids, sampled flag, trace state), with no span data; and the tracing
// middleware over it, as the layout runs it with no OTLP endpoint.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  context,
  isSpanContextValid,
  propagation,
  ROOT_CONTEXT,
  trace,
  TraceFlags,
} from "@opentelemetry/api";
import type { Context as OtelContext, SpanContext } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { suppressTracing, TraceState } from "@opentelemetry/core";
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  ParentBasedSampler,
  SamplingDecision,
  TraceIdRatioBasedSampler,
} from "@opentelemetry/sdk-trace";
import { createContext } from "kratos-ts/context";
import { tracing } from "kratos-ts/middleware";
import { startTelemetry, UnrecordedTracerProvider } from "kratos-ts/telemetry";
import { setServerTransport } from "kratos-ts/transport";
import { transportFor } from "../helpers/telemetry.js";

const parentBased = new ParentBasedSampler({ root: new AlwaysOnSampler() });
const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
const parentSpanId = "00f067aa0ba902b7";

function remoteParent(flags: TraceFlags): OtelContext {
  const parent: SpanContext = {
    traceId,
    spanId: parentSpanId,
    traceFlags: flags,
    isRemote: true,
    traceState: new TraceState("vendor=value"),
  };
  return trace.setSpanContext(ROOT_CONTEXT, parent);
}

describe("UnrecordedTracerProvider", () => {
  const tracer = new UnrecordedTracerProvider({ sampler: parentBased }).getTracer("t");

  it("starts a root with fresh ids, flagged as its sampler decides, recording nothing", () => {
    const span = tracer.startSpan("root", {}, ROOT_CONTEXT);
    const sc = span.spanContext();
    assert.ok(isSpanContextValid(sc));
    assert.equal(sc.traceFlags, TraceFlags.SAMPLED);
    assert.equal(span.isRecording(), false);
    const other = tracer.startSpan("root", {}, ROOT_CONTEXT).spanContext();
    assert.notEqual(other.traceId, sc.traceId, "every root is a new trace");
    const off = new UnrecordedTracerProvider({ sampler: new AlwaysOffSampler() }).getTracer("t");
    assert.equal(off.startSpan("root", {}, ROOT_CONTEXT).spanContext().traceFlags, TraceFlags.NONE);
  });

  it("continues its parent's trace, flag and trace state, with a span id of its own", () => {
    for (const flags of [TraceFlags.SAMPLED, TraceFlags.NONE]) {
      const sc = tracer.startSpan("child", {}, remoteParent(flags)).spanContext();
      assert.equal(sc.traceId, traceId);
      assert.notEqual(sc.spanId, parentSpanId);
      assert.equal(sc.traceFlags, flags, "parent-based: the parent's decision holds");
      assert.equal(sc.traceState?.get("vendor"), "value");
    }
  });

  it("asks its sampler with the trace id it will use (a ratio sampler decides by it)", () => {
    const sampler = new TraceIdRatioBasedSampler(0.5);
    const ratio = new UnrecordedTracerProvider({ sampler }).getTracer("t");
    const flags = new Set<number>();
    for (let i = 0; i < 200; i++) {
      const sc = ratio.startSpan("r", {}, ROOT_CONTEXT).spanContext();
      const decision = sampler.shouldSample(ROOT_CONTEXT, sc.traceId).decision;
      assert.equal(sc.traceFlags, decision === SamplingDecision.RECORD_AND_SAMPLED ? 1 : 0);
      flags.add(sc.traceFlags);
    }
    assert.equal(flags.size, 2, "both decisions happen");
  });

  it("starts a new trace for `root`, and an invalid span where tracing is suppressed", () => {
    const sc = tracer.startSpan("r", { root: true }, remoteParent(TraceFlags.NONE)).spanContext();
    assert.notEqual(sc.traceId, traceId);
    assert.equal(sc.traceFlags, TraceFlags.SAMPLED);
    const suppressed = tracer.startSpan("s", {}, suppressTracing(ROOT_CONTEXT));
    assert.equal(isSpanContextValid(suppressed.spanContext()), false);
  });

  describe("with a context manager", () => {
    before(() => {
      context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    });
    after(() => {
      context.disable();
    });
    it("runs startActiveSpan's function with the span active, in all three forms", () => {
      const seen: string[] = [];
      const check = (span: ReturnType<typeof tracer.startSpan>) => {
        assert.equal(trace.getSpan(context.active()), span);
        seen.push(span.spanContext().traceId);
        return seen.length;
      };
      assert.equal(tracer.startActiveSpan("a", check), 1);
      assert.equal(tracer.startActiveSpan("b", {}, check), 2);
      assert.equal(tracer.startActiveSpan("c", {}, remoteParent(TraceFlags.SAMPLED), check), 3);
      assert.equal(seen[2], traceId);
    });
  });
});

describe("the tracing middleware with no exporter", () => {
  it("gives the handler the incoming trace, and propagates it with the caller's sampled flag", async () => {
    const telemetry = startTelemetry({ serviceName: "svc", prometheus: false });
    try {
      const seen: { traceparent: string; recording: boolean }[] = [];
      const handler = tracing.server()(() => {
        const carrier: Record<string, string> = {};
        propagation.inject(context.active(), carrier);
        seen.push({
          traceparent: carrier["traceparent"] ?? "",
          recording: trace.getSpan(context.active())?.isRecording() ?? true,
        });
        return Promise.resolve("ok");
      });
      for (const flags of ["01", "00"]) {
        const transport = transportFor("http", "/helloworld.v1.Greeter/SayHello");
        transport.requestHeader.set("traceparent", `00-${traceId}-${parentSpanId}-${flags}`);
        const ctx = createContext();
        setServerTransport(ctx, transport);
        assert.equal(await handler(ctx, undefined), "ok");
      }
      const pattern = (flags: string) =>
        new RegExp(`^00-${traceId}-(?!${parentSpanId})[0-9a-f]{16}-${flags}$`);
      assert.match(seen[0]?.traceparent ?? "", pattern("01"));
      assert.match(seen[1]?.traceparent ?? "", pattern("00"));
      assert.deepEqual(
        seen.map((s) => s.recording),
        [false, false],
      );
    } finally {
      await telemetry.shutdown();
    }
  });
});
