/**
 * Events, served like any transport: the broker seam, typed publishers, and the subscriber
 * server of kind `broker`. Engines: `kratos-ts/broker/nats` (JetStream) and the in-memory
 * {@link createMemoryBroker} for unit tests.
 *
 * @module
 */
export type {
  Broker,
  Delivery,
  DeliveryHandler,
  MessageHeaders,
  PublishAck,
  PublishOptions,
  SubscribeOptions,
  Subscription,
} from "./broker.js";
export { contentTypeHeader, decodeEvent, encodeEvent, eventHeaders } from "./codec.js";
export type { EventEncoding } from "./codec.js";
export { createPublisher } from "./publisher.js";
export type { Publisher, PublisherOptions } from "./publisher.js";
export { createBrokerServer } from "./server.js";
export type { BrokerServer, BrokerServerOptions, SubscriberSpec } from "./server.js";
export { deadLetterHeaders, subscribeDefaults } from "./settle.js";
export { brokerTransport, BrokerTransporter } from "./transporter.js";
export { createMemoryBroker } from "./memory/memory-broker.js";
export type { MemoryBroker, MemoryBrokerOptions } from "./memory/memory-broker.js";
