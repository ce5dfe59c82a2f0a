import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
} from "@opentelemetry/sdk-trace";
import type { Sampler } from "@opentelemetry/sdk-trace";

/**
 * The sampler the standard OpenTelemetry variables ask for: `OTEL_TRACES_SAMPLER` (`always_on`,
 * `always_off`, `traceidratio`, and their `parentbased_` forms) with `OTEL_TRACES_SAMPLER_ARG`
 * (the ratio, default 1). Unset or unknown: parent-based always-on, the SDK's default. An unknown
 * name or a bad ratio is reported through `warn` once, at start.
 */
export function samplerFromEnv(env: NodeJS.ProcessEnv, warn: (message: string) => void): Sampler {
  const name = (env["OTEL_TRACES_SAMPLER"] ?? "").trim().toLowerCase();
  const fallback = () => new ParentBasedSampler({ root: new AlwaysOnSampler() });
  const ratio = (): number => {
    const raw = env["OTEL_TRACES_SAMPLER_ARG"];
    if (raw === undefined || raw.trim() === "") return 1;
    const value = Number(raw);
    if (Number.isFinite(value) && value >= 0 && value <= 1) return value;
    warn(`OTEL_TRACES_SAMPLER_ARG="${raw}" is not a ratio in [0, 1]; using 1`);
    return 1;
  };
  switch (name) {
    case "":
    case "parentbased_always_on":
      return fallback();
    case "always_on":
      return new AlwaysOnSampler();
    case "always_off":
      return new AlwaysOffSampler();
    case "traceidratio":
      return new TraceIdRatioBasedSampler(ratio());
    case "parentbased_always_off":
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case "parentbased_traceidratio":
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio()) });
    default:
      warn(`OTEL_TRACES_SAMPLER="${name}" is not supported; using parentbased_always_on`);
      return fallback();
  }
}
