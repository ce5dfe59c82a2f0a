// What an engine does with a delivery whose handler failed: nak it for a later redelivery, or
// dead-letter it. Both engines share it, so the memory engine behaves as NATS does.
import { KratosError } from "../errors/error.js";
import { fromError } from "../errors/from-error.js";
import { reasons } from "../errors/reasons.js";
import type { Delivery, MessageHeaders, SubscribeOptions } from "./broker.js";

/** The delivery defaults, in one place. */
export const subscribeDefaults = {
  maxDeliver: 5,
  backoff: [1000, 5000, 30_000] as readonly number[],
  ackWaitMs: 30_000,
  maxInFlight: 64,
};

/** The headers a dead-lettered message carries besides its own. */
export const deadLetterHeaders = {
  /** The topic it was published to. */
  topic: "kratos-dead-letter-topic",
  /** How many times it was delivered. */
  deliveries: "kratos-dead-letter-deliveries",
  /** The last error's code, reason and message. */
  code: "kratos-error-code",
  reason: "kratos-error-reason",
  message: "kratos-error-message",
} as const;

/** The decision on a failed delivery. */
export type Settlement =
  | { readonly action: "nak"; readonly delayMs: number }
  | { readonly action: "dead-letter"; readonly topic: string; readonly headers: MessageHeaders };

/** The dead-letter topic of `topic` under `options`. */
export function deadLetterTopic(topic: string, options: SubscribeOptions): string {
  return options.deadLetterTopic ?? `dlq.${topic}`;
}

/** Decides what happens to `delivery`, whose handler failed with `err`. */
export function settle(delivery: Delivery, err: unknown, options: SubscribeOptions): Settlement {
  const maxDeliver = options.maxDeliver ?? subscribeDefaults.maxDeliver;
  const final = (options.isFinal ?? isBadInput)(err);
  if (final || delivery.deliveryCount >= maxDeliver) {
    const e = fromError(err);
    return {
      action: "dead-letter",
      topic: deadLetterTopic(delivery.topic, options),
      headers: {
        ...delivery.headers,
        [deadLetterHeaders.topic]: delivery.topic,
        [deadLetterHeaders.deliveries]: String(delivery.deliveryCount),
        [deadLetterHeaders.code]: String(e.code),
        [deadLetterHeaders.reason]: e.reason,
        // Headers are one line; a stack or a multi-line message must not break the frame.
        [deadLetterHeaders.message]: e.message.replace(/[\r\n]+/g, " ").slice(0, 1024),
      },
    };
  }
  const backoff = options.backoff ?? subscribeDefaults.backoff;
  const delayMs = backoff[Math.min(delivery.deliveryCount, backoff.length) - 1] ?? 0;
  return { action: "nak", delayMs };
}

function isBadInput(err: unknown): boolean {
  return fromError(err).code === 400;
}

/**
 * The error of a failed publish: 503 `BROKER_UNAVAILABLE` naming the engine and topic, with
 * the engine's error as its cause.
 */
export function publishFailed(engine: string, topic: string, cause: unknown): KratosError {
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new KratosError(
    503,
    reasons.brokerUnavailable,
    `${engine}: publish to ${topic} failed: ${detail}`,
    { metadata: { topic }, cause },
  );
}

/** The error of a connect or subscribe the engine could not do: 503 `BROKER_UNAVAILABLE`. */
export function brokerUnavailable(message: string, cause?: unknown): KratosError {
  return new KratosError(503, reasons.brokerUnavailable, message, { cause });
}
