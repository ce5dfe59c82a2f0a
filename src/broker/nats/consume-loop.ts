// One subscription's consume loop on a JetStream pull consumer: up to maxInFlight handlers at
// once, ack on success, nak with backoff or dead-letter on failure, a consumer recreated when
// the server loses it, and a graceful stop.
import type { ConsumerMessages, Consumer, JsMsg } from "@nats-io/jetstream";
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
  /** Milliseconds the stop's flush and cleanup may take (the server may be gone). */
  readonly stopTimeoutMs: number;
  /** Milliseconds between attempts to recreate a lost consumer. */
  readonly retryMs: number;
  /** Publishes a dead letter (JetStream-acknowledged). */
  deadLetter(topic: string, body: Uint8Array, headers: MessageHeaders): Promise<void>;
  /** Waits until what was sent (acks, naks) reached the server. */
  flush(): Promise<void>;
  /** Creates the consumer again (it was deleted, or expired), and returns it. */
  recreate(): Promise<Consumer>;
  /** Whether the connection is closed for good (the broker's close): nothing to recreate. */
  closed(): boolean;
  /** Runs once the loop has stopped (an ephemeral consumer is deleted there). */
  cleanup?(): Promise<void>;
}

// The pull requests' life: the client re-pulls when it ends, and heartbeats (half of it) tell
// a dead pull from an idle one. Consume also re-pulls by itself after a reconnect.
const pullExpiresMs = 10_000;

function consume(consumer: Consumer, maxInFlight: number): Promise<ConsumerMessages> {
  return consumer.consume({
    max_messages: maxInFlight,
    expires: pullExpiresMs,
    // A deleted consumer (an admin's delete, an ephemeral one past its inactive threshold)
    // ends the iterator instead of being polled for ever: the loop recreates it.
    abort_on_missing_resource: true,
  });
}

/** Starts consuming; resolves once the first pull is out. */
export async function startConsumeLoop(init: ConsumeLoopInit): Promise<Subscription> {
  const { options, log } = init;
  const maxInFlight = options.maxInFlight ?? subscribeDefaults.maxInFlight;
  // The messages being handled, and the promise of each.
  const running = new Map<JsMsg, Promise<void>>();
  // An object, not a let: the loop reads it across awaits, after stop() has changed it.
  const state: {
    messages: ConsumerMessages;
    stopping: boolean;
    stopped: Promise<void> | undefined;
    slotFreed: (() => void) | undefined;
    // Wakes the wait between attempts to recreate the consumer.
    retryNow: (() => void) | undefined;
  } = {
    messages: await consume(init.consumer, maxInFlight),
    stopping: false,
    stopped: undefined,
    slotFreed: undefined,
    retryNow: undefined,
  };

  // Acks wait for the end of the event loop turn and leave together: the client writes to the
  // socket once per microtask checkpoint with something queued, and handlers finish in separate
  // microtasks, so acking each at once cost a socket write per message.
  const acks: JsMsg[] = [];
  const sendAcks = () => {
    for (const m of acks.splice(0)) m.ack();
  };
  const handle = async (m: JsMsg): Promise<void> => {
    const delivery = new NatsDelivery(m);
    try {
      await init.handler(delivery);
      if (acks.push(m) === 1) setImmediate(sendAcks);
    } catch (err) {
      await settleFailed(init, m, delivery, err);
    } finally {
      running.delete(m);
      wake(state);
    }
  };

  // Read through a call: TypeScript keeps a narrowing of state.stopping across awaits.
  const stopping = () => state.stopping;

  /** Recreates the consumer and consumes again, retrying until it works or the stop. */
  const reopen = async (): Promise<ConsumerMessages | undefined> => {
    for (let attempt = 0; !state.stopping && !init.closed(); attempt++) {
      // A pause first, too: the server may still be removing the deleted one.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, init.retryMs);
        state.retryNow = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      state.retryNow = undefined;
      if (stopping()) break;
      try {
        const messages = await consume(await init.recreate(), maxInFlight);
        if (!stopping()) return messages;
        await messages.close();
        return undefined;
      } catch (err) {
        if (attempt === 0) {
          log.warn(
            { topic: init.topic, err: String(err) },
            "broker: cannot recreate the consumer; retrying",
          );
        }
      }
    }
    return undefined;
  };

  const loop = (async () => {
    for (;;) {
      let lost: unknown = "the message iterator ended";
      try {
        for await (const m of state.messages) {
          while (!state.stopping && running.size >= maxInFlight) {
            await new Promise<void>((resolve) => {
              state.slotFreed = resolve;
            });
          }
          if (state.stopping) {
            // Pulled but not started: back to the server at once, for another subscriber.
            // JetStream counts the nak as a delivery (nothing returns a message without one),
            // so the message's next delivery count is one higher; deliveries are unlimited on
            // the server, so it is never lost, at worst dead-lettered one handler run sooner.
            m.nak();
            continue;
          }
          running.set(m, handle(m));
        }
      } catch (err) {
        lost = err;
      }
      if (state.stopping || init.closed()) return;
      // Not stopped by us: the consumer is gone (deleted, or expired while we were away).
      log.warn({ topic: init.topic, err: String(lost) }, "broker: consumer lost; recreating it");
      const messages = await reopen();
      if (messages === undefined) return;
      state.messages = messages;
    }
  })().catch((err: unknown) => {
    log.error({ topic: init.topic, err: String(err) }, "broker: consume loop ended");
  });

  const stop = async (signal?: AbortSignal): Promise<void> => {
    state.stopping = true;
    // Ends the iterator after the messages it holds (nak'ed above); no new pulls.
    void state.messages.close().catch(() => undefined);
    wake(state);
    state.retryNow?.();
    const drained = (async () => {
      await loop;
      await Promise.allSettled([...running.values()]);
    })();
    await doneOrAborted(drained, signal);
    sendAcks();
    // Acks and naks are plain publishes: make sure they left before anyone closes. With the
    // server gone the client would wait for ever: bounded, and cut short by the signal.
    await bounded(init.flush(), init.stopTimeoutMs, signal);
    if (init.cleanup !== undefined) await bounded(init.cleanup(), init.stopTimeoutMs, signal);
  };

  return {
    stop(signal?: AbortSignal) {
      // A second stop waits for the first.
      state.stopped ??= stop(signal);
      return state.stopped;
    },
  };
}

/**
 * Waits for `work` to settle, `ms` to pass or `signal` to abort, whichever comes first; never
 * rejects. What is still running carries on unwatched.
 */
export async function bounded(
  work: Promise<unknown>,
  ms: number,
  signal?: AbortSignal,
): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  try {
    await doneOrAborted(Promise.race([work, timeout]), signal);
  } finally {
    clearTimeout(timer);
  }
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

/**
 * Naks a failed message for later, or dead-letters it; see {@link settle}. The server's
 * deliveries are unlimited: the dead-lettering is decided here, from the delivery count, so a
 * delivery that ended otherwise (a killed process, an ack wait past, a failed dead-letter
 * publish) is delivered again and its handler runs, rather than the message being dropped.
 */
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
