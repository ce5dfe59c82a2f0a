// The official NATS client's modules, loaded when a broker first connects rather than when this
// engine is imported: an app that imports it but leaves NATS unconfigured (the layout without
// `data.nats`) does not pay for some sixty modules at every cold start.
import type * as Core from "@nats-io/transport-node";
import type * as JetStream from "@nats-io/jetstream";
import { commonJsExports } from "../../internal/commonjs-exports.js";

/** `@nats-io/transport-node` and `@nats-io/jetstream`, loaded. */
export interface NatsClient {
  readonly core: typeof Core;
  readonly jetstream: typeof JetStream;
}

let loading: Promise<NatsClient> | undefined;

/**
 * Loads the client's modules once; later calls get the same promise. Both packages are
 * CommonJS, so a bundle gives them as `default` only ({@link commonJsExports}).
 */
export function loadNatsClient(): Promise<NatsClient> {
  loading ??= Promise.all([import("@nats-io/transport-node"), import("@nats-io/jetstream")]).then(
    ([core, jetstream]) => ({ core: commonJsExports(core), jetstream: commonJsExports(jetstream) }),
  );
  return loading;
}

/** Milliseconds as the nanoseconds of JetStream's durations (the client's own `nanos`). */
export function nanos(ms: number): number {
  return ms * 1_000_000;
}
