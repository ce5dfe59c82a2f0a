/**
 * The event seam (Kratos-transport's `broker.Broker`, go-micro's broker): publish bytes with
 * headers to a topic, subscribe a handler to one. Engines implement it (NATS JetStream, an
 * in-memory one for unit tests); typed publishers and the subscriber server sit on top.
 *
 * @module
 */
import type { Context } from "../context.js";

/** Message headers as they travel: lower-case names, one value each. */
export type MessageHeaders = Record<string, string>;

/** Options of {@link Broker.publish}. */
export interface PublishOptions {
  /** Headers sent with the message (lower-case names). Default: none. */
  headers?: MessageHeaders;
  /**
   * A de-duplication id: the engine stores one message per id within its window (JetStream's
   * `Nats-Msg-Id`, two minutes by default), so a publish retried after a lost ack is not
   * delivered twice. Default: none.
   */
  msgId?: string;
}

/** What the engine acknowledged. */
export interface PublishAck {
  /** The stream (or topic) that stored the message. */
  readonly stream: string;
  /** Its sequence number there. */
  readonly seq: number;
  /** True when `msgId` was seen before in the window: the message was not stored again. */
  readonly duplicate: boolean;
}

/** A message as a subscriber receives it. */
export interface Delivery {
  /** The topic (subject) it was published to. */
  readonly topic: string;
  readonly body: Uint8Array;
  /** Lower-case names. */
  readonly headers: MessageHeaders;
  /** 1 on the first delivery, then 2, 3...: the engine redelivers until an ack. */
  readonly deliveryCount: number;
  /** The stream sequence: stable across redeliveries, so handlers can spot repeats. */
  readonly seq: number;
}

/**
 * Handles one delivery: resolving acknowledges it; rejecting naks it (redelivery after the
 * backoff) or, when the error is final or the deliveries are used up, sends it to the
 * dead-letter topic.
 */
export type DeliveryHandler = (delivery: Delivery) => Promise<void>;

/** Options of {@link Broker.subscribe}: the delivery contract. */
export interface SubscribeOptions {
  /**
   * The queue group: every subscriber with the same queue on a topic shares its messages, each
   * delivered to one of them, and the group's position is durable (a JetStream durable
   * consumer of that name). Without it, every subscriber gets every message published while it
   * runs.
   */
  queue?: string;
  /** Deliveries before a failing message goes to the dead-letter topic. Default 5. */
  maxDeliver?: number;
  /**
   * Milliseconds before the redelivery of a failed message, by failed delivery (the first
   * failure waits `backoff[0]`); the last value repeats. Default `[1000, 5000, 30000]`.
   */
  backoff?: readonly number[];
  /** Milliseconds an unacknowledged delivery waits before the engine redelivers it. Default 30 000. */
  ackWaitMs?: number;
  /** Messages handled at once by this subscriber; more wait in the engine. Default 64. */
  maxInFlight?: number;
  /** Where dead messages go, with the last error in their headers. Default `dlq.<topic>`. */
  deadLetterTopic?: string;
  /**
   * Whether an error sends the message to the dead-letter topic at once, without retries:
   * redelivering a message that does not decode or validate cannot help. Default: code 400.
   */
  isFinal?: (err: unknown) => boolean;
}

/** A running subscription. */
export interface Subscription {
  /**
   * Stops pulling, lets the messages in flight finish and settles them (ack or nak), then
   * resolves. When `signal` aborts it stops waiting: unsettled messages are redelivered later.
   */
  stop(signal?: AbortSignal): Promise<void>;
}

/** A message engine; see the module. */
export interface Broker {
  /** The engine's name (`nats`, `memory`). */
  readonly name: string;
  /** Connects (once; later calls share the first). A failure is a 503 `BROKER_UNAVAILABLE`. */
  connect(): Promise<void>;
  /** The engine's address (`nats://127.0.0.1:4222`, the first configured server). */
  endpoint(): URL;
  /**
   * Publishes `body` to `topic` and waits for the engine's acknowledgement, within the
   * context's deadline. A failure is a 503 `BROKER_UNAVAILABLE` KratosError naming the topic.
   */
  publish(
    ctx: Context,
    topic: string,
    body: Uint8Array,
    options?: PublishOptions,
  ): Promise<PublishAck>;
  /** Subscribes `handler` to `topic`; resolves once messages can flow. */
  subscribe(
    topic: string,
    handler: DeliveryHandler,
    options?: SubscribeOptions,
  ): Promise<Subscription>;
  /** Flushes what is pending (acks included) and closes the connection. */
  close(): Promise<void>;
}
