// The official NATS client's modules, loaded when a broker first connects rather than when this
// engine is imported: an app that imports it but leaves NATS unconfigured (the layout without
// `data.nats`) does not pay for some sixty modules at every cold start.
import type * as Core from "@nats-io/transport-node";
import type * as JetStream from "@nats-io/jetstream";

/** `@nats-io/transport-node` and `@nats-io/jetstream`, loaded. */
export interface NatsClient {
  readonly core: typeof Core;
  readonly jetstream: typeof JetStream;
}

let loading: Promise<NatsClient> | undefined;

/** Loads the client's modules once; later calls get the same promise. */
export function loadNatsClient(): Promise<NatsClient> {
  loading ??= Promise.all([import("@nats-io/transport-node"), import("@nats-io/jetstream")]).then(
    ([core, jetstream]) => ({ core: namespaceOf(core), jetstream: namespaceOf(jetstream) }),
  );
  return loading;
}

/**
 * Both packages are CommonJS. Node's `import()` of one gives its exports as named exports; a
 * bundle with code splitting (esbuild, as the layout's `npm start` runs) gives only `default`,
 * the `module.exports` object. Either way, the exports.
 */
function namespaceOf<T extends object>(loaded: T): T {
  const exports = (loaded as { default?: unknown }).default;
  const onlyDefault = Object.keys(loaded).every((k) => k === "default" || k === "module.exports");
  return onlyDefault && typeof exports === "object" && exports !== null ? (exports as T) : loaded;
}

/** Milliseconds as the nanoseconds of JetStream's durations (the client's own `nanos`). */
export function nanos(ms: number): number {
  return ms * 1_000_000;
}
