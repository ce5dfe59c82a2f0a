// One subscription's consume loop on a JetStream pull consumer: up to maxInFlight handlers at
// once, ack on success, nak with backoff or dead-letter on failure, and a graceful stop.
import type { Consumer, JsMsg } from "@nats-io/jetstream";
import { doneOrAborted } from "../../internal/done-or-aborted.js";
import type { Logger } from "../../log/logger.js";
import type {
  Delivery,
  DeliveryHandler,
  MessageHeaders,
  SubscribeOptions,
  Subscription,
} from "../broker.js";
import { settle, subscribeDefaults } from "../settle.js";
import { fromNatsHeaders } from "./nats-headers.js";

/** What the loop needs from the engine. */
export interface ConsumeLoopInit {
  readonly consumer: Consumer;
  readonly topic: string;
  readonly handler: DeliveryHandler;
  readonly options: SubscribeOptions;
  readonly log: Logger;
  /** Publishes a dead letter (JetStream-acknowledged). */
  deadLetter(topic: string, body: Uint8Array, headers: MessageHeaders): Promise<void>;
  /** Waits until what was sent (acks, naks) reached the server. */
  flush(): Promise<void>;
  /** Runs once the loop has stopped (an ephemeral consumer is deleted there). */
  cleanup?(): Promise<void>;
}

// The pull requests' life: the client re-pulls when it ends, and heartbeats (half of it) tell
// a dead pull from an idle one. Consume also re-pulls by itself after a reconnect.
const pullExpiresMs = 10_000;

/** Starts consuming; resolves once the first pull is out. */
export async function startConsumeLoop(init: ConsumeLoopInit): Promise<Subscription> {
  const { options, log } = init;
  const maxInFlight = options.maxInFlight ?? subscribeDefaults.maxInFlight;
  const messages = await init.consumer.consume({
    max_messages: maxInFlight,
    expires: pullExpiresMs,
  });
  // The messages being handled, and the promise of each.
  const running = new Map<JsMsg, Promise<void>>();
  // An object, not a let: the loop reads it across awaits, after stop() has changed it.
  const state: { stopping: boolean; slotFreed: (() => void) | undefined } = {
    stopping: false,
    slotFreed: undefined,
  };

  const handle = async (m: JsMsg): Promise<void> => {
    const delivery = new NatsDelivery(m);
    try {
      await init.handler(delivery);
      m.ack();
    } catch (err) {
      await settleFailed(init, m, delivery, err);
    } finally {
      running.delete(m);
      wake(state);
    }
  };

  const loop = (async () => {
    for await (const m of messages) {
      while (!state.stopping && running.size >= maxInFlight) {
        await new Promise<void>((resolve) => {
          state.slotFreed = resolve;
        });
      }
      if (state.stopping) {
        // Pulled but not started: back to the server at once, for another subscriber.
        m.nak();
        continue;
      }
      running.set(m, handle(m));
    }
  })().catch((err: unknown) => {
    log.error({ topic: init.topic, err: String(err) }, "broker: consume loop ended");
  });

  return {
    async stop(signal?: AbortSignal) {
      if (state.stopping) return;
      state.stopping = true;
      // Ends the iterator after the messages it holds (nak'ed above); no new pulls.
      void messages.close();
      wake(state);
      const drained = (async () => {
        await loop;
        await Promise.allSettled([...running.values()]);
      })();
      await doneOrAborted(drained, signal);
      // Acks and naks are plain publishes: make sure they left before anyone closes.
      await init.flush().catch(() => undefined);
      await init.cleanup?.().catch(() => undefined);
    },
  };
}

/** Wakes the loop if it waits for a free slot. */
function wake(state: { slotFreed: (() => void) | undefined }): void {
  const resolve = state.slotFreed;
  state.slotFreed = undefined;
  resolve?.();
}

/**
 * A message as the handler sees it. The delivery count and sequence are parsed from the reply
 * subject only when read (on failure, or by a handler that asks): most messages never need them.
 */
class NatsDelivery implements Delivery {
  readonly topic: string;
  readonly body: Uint8Array;
  readonly headers: MessageHeaders;

  constructor(readonly msg: JsMsg) {
    this.topic = msg.subject;
    this.body = msg.data;
    this.headers = fromNatsHeaders(msg.headers);
  }

  get deliveryCount(): number {
    return this.msg.info.deliveryCount;
  }

  get seq(): number {
    return this.msg.seq;
  }
}

/** Naks a failed message for later, or dead-letters it; see {@link settle}. */
async function settleFailed(
  init: ConsumeLoopInit,
  m: JsMsg,
  delivery: Delivery,
  err: unknown,
): Promise<void> {
  const { options } = init;
  const decision = settle(delivery, err, options);
  if (decision.action === "nak") {
    m.nak(decision.delayMs);
    return;
  }
  try {
    await init.deadLetter(decision.topic, m.data, decision.headers);
    // Stored on the dead-letter topic: this one is done with, never to be redelivered.
    m.term();
  } catch (dlqErr) {
    // Not stored there: keep it on its topic, to be tried again.
    init.log.error(
      { topic: init.topic, deadLetterTopic: decision.topic, err: String(dlqErr) },
      "broker: dead-letter publish failed; message nak'ed",
    );
    const backoff = options.backoff ?? subscribeDefaults.backoff;
    m.nak(backoff[backoff.length - 1] ?? 0);
  }
}
