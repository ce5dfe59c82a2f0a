/**
 * The NATS JetStream engine of `kratos-ts/broker`, on the official `@nats-io/transport-node`
 * and `@nats-io/jetstream` clients.
 *
 * @module
 */
export { createNatsBroker, durableName } from "./nats-broker.js";
export type { NatsBrokerOptions, StreamSpec } from "./nats-broker.js";
