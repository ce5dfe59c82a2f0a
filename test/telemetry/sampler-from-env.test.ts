import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { samplerFromEnv } from "../../src/telemetry/sampler-from-env.js";

const describeSampler = (env: NodeJS.ProcessEnv) => {
  const warnings: string[] = [];
  const sampler = samplerFromEnv(env, (m) => warnings.push(m));
  return { text: sampler.toString(), warnings };
};

describe("samplerFromEnv", () => {
  it("defaults to parent-based always-on", () => {
    assert.deepEqual(describeSampler({}), {
      text: "ParentBased{root=AlwaysOnSampler, remoteParentSampled=AlwaysOnSampler, remoteParentNotSampled=AlwaysOffSampler, localParentSampled=AlwaysOnSampler, localParentNotSampled=AlwaysOffSampler}",
      warnings: [],
    });
  });

  it("reads the standard names and the ratio", () => {
    assert.equal(describeSampler({ OTEL_TRACES_SAMPLER: "always_off" }).text, "AlwaysOffSampler");
    assert.equal(describeSampler({ OTEL_TRACES_SAMPLER: "Always_On " }).text, "AlwaysOnSampler");
    assert.equal(
      describeSampler({ OTEL_TRACES_SAMPLER: "traceidratio", OTEL_TRACES_SAMPLER_ARG: "0.25" })
        .text,
      "TraceIdRatioBased{0.25}",
    );
    assert.match(
      describeSampler({
        OTEL_TRACES_SAMPLER: "parentbased_traceidratio",
        OTEL_TRACES_SAMPLER_ARG: "0.5",
      }).text,
      /^ParentBased\{root=TraceIdRatioBased\{0\.5\},/,
    );
    assert.match(
      describeSampler({ OTEL_TRACES_SAMPLER: "parentbased_always_off" }).text,
      /^ParentBased\{root=AlwaysOffSampler,/,
    );
  });

  it("warns about an unknown name or a bad ratio and falls back", () => {
    const unknown = describeSampler({ OTEL_TRACES_SAMPLER: "jaeger_remote" });
    assert.match(unknown.text, /^ParentBased\{root=AlwaysOnSampler,/);
    assert.deepEqual(unknown.warnings, [
      'OTEL_TRACES_SAMPLER="jaeger_remote" is not supported; using parentbased_always_on',
    ]);
    const bad = describeSampler({
      OTEL_TRACES_SAMPLER: "traceidratio",
      OTEL_TRACES_SAMPLER_ARG: "2",
    });
    assert.equal(bad.text, "TraceIdRatioBased{1}");
    assert.deepEqual(bad.warnings, [
      'OTEL_TRACES_SAMPLER_ARG="2" is not a ratio in [0, 1]; using 1',
    ]);
  });
});
