// The NATS JetStream engine, on the official client (@nats-io/transport-node + jetstream).
import { createHash } from "node:crypto";
import type {
  Consumer,
  ConsumerConfig,
  JetStreamClient,
  JetStreamManager,
} from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { createContext } from "../../context.js";
import type { Context } from "../../context.js";
import { discardLogger } from "../../log/logger.js";
import type { Logger } from "../../log/logger.js";
import type {
  Broker,
  DeliveryHandler,
  MessageHeaders,
  PublishAck,
  PublishOptions,
  SubscribeOptions,
  Subscription,
} from "../broker.js";
import { brokerUnavailable, publishFailed, subscribeDefaults } from "../settle.js";
import { bounded, startConsumeLoop } from "./consume-loop.js";
import { loadNatsClient, nanos } from "./nats-client.js";
import type { NatsClient } from "./nats-client.js";
import { toNatsHeaders } from "./nats-headers.js";

/** A stream the broker makes sure exists (created, or updated to this config). */
export interface StreamSpec {
  /** The stream name (letters, digits, `-`, `_`). */
  name: string;
  /** The subjects it stores (`orders.>`). */
  subjects: string[];
  /** Milliseconds a message is kept. Default: for ever (JetStream's default). */
  maxAgeMs?: number;
  /** Milliseconds within which a repeated `msgId` is dropped. Default 120 000 (JetStream's). */
  duplicateWindowMs?: number;
}

/** Options of {@link createNatsBroker}. */
export interface NatsBrokerOptions {
  /** The servers (`nats://127.0.0.1:4222`, or several). */
  servers: string | string[];
  /** The connection's name, shown by the server's monitoring. Default: none. */
  name?: string;
  /** Where connection trouble and dead-letter failures are written. Default: nowhere. */
  logger?: Logger;
  /** Streams ensured at connect. Default: none. */
  streams?: StreamSpec[];
  /**
   * Whether a topic no stream stores gets a stream of its own (named after it, `orders.created`
   * -> `orders_created`) at its first publish or subscribe; dead-letter topics too. Default true.
   */
  autoCreateStreams?: boolean;
  /** Milliseconds a publish waits for its ack when the context has no earlier deadline. Default 5000. */
  publishTimeoutMs?: number;
  /** Milliseconds the first connect may take. Default 5000. */
  connectTimeoutMs?: number;
  /** Milliseconds between reconnect attempts; the client retries for ever. Default 250. */
  reconnectWaitMs?: number;
  /**
   * Milliseconds a subscription's stop may spend flushing its acks, and `close` draining the
   * connection, when the server does not answer (it is down: the client would wait for ever).
   * Default 5000.
   */
  closeTimeoutMs?: number;
  /**
   * Milliseconds an auto-created stream keeps a message (see `autoCreateStreams`). A new queue
   * group starts from the oldest message kept, so this also bounds what it replays.
   * Default 86 400 000 (24 hours); 0 keeps messages for ever. Streams in `streams` have their own.
   */
  autoStreamMaxAgeMs?: number;
}

/**
 * Creates the NATS JetStream broker. The connection reconnects by itself for ever; a consumer
 * re-pulls after a reconnect, so a restarted server loses nothing it acknowledged. Queue groups
 * are durable consumers shared by every subscriber of the group (across processes), one per
 * queue and topic; delivery is explicit-ack, at least once: the server redelivers without a
 * limit and the subscriber dead-letters a message whose handler failed on its `maxDeliver`th
 * delivery (or later).
 */
export function createNatsBroker(options: NatsBrokerOptions): Broker {
  return new NatsBroker(options);
}

interface Ready {
  readonly client: NatsClient;
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
}

class NatsBroker implements Broker {
  readonly name = "nats";
  readonly #options: NatsBrokerOptions;
  readonly #servers: string[];
  readonly #log: Logger;
  #ready: Promise<Ready> | undefined;
  // The same, once it has resolved (the publish fast path reads it without an await).
  #connected: Ready | undefined;
  // Topics whose stream is known to exist.
  readonly #known = new Set<string>();
  // The stream of each topic: looked up (or created) once.
  readonly #streams = new Map<string, Promise<string>>();
  #closed = false;

  constructor(options: NatsBrokerOptions) {
    this.#options = options;
    this.#servers = Array.isArray(options.servers) ? options.servers : [options.servers];
    this.#log = options.logger ?? discardLogger;
  }

  endpoint(): URL {
    const first = this.#servers[0] ?? "127.0.0.1:4222";
    return new URL(first.includes("://") ? first : `nats://${first}`);
  }

  async connect(): Promise<void> {
    await this.#connect();
  }

  #connect(): Promise<Ready> {
    if (this.#closed) return Promise.reject(brokerUnavailable("nats: the broker is closed"));
    if (this.#ready === undefined) {
      this.#ready = this.#open();
      this.#ready.then(
        (ready) => (this.#connected = ready),
        () => undefined,
      );
      // A failed connect may be tried again.
      this.#ready.catch(() => (this.#ready = undefined));
    }
    return this.#ready;
  }

  async #open(): Promise<Ready> {
    const client = await loadNatsClient();
    let nc: NatsConnection;
    try {
      nc = await client.core.connect({
        servers: this.#servers,
        ...(this.#options.name === undefined ? {} : { name: this.#options.name }),
        maxReconnectAttempts: -1,
        // Otherwise the client builds an Error (a stack trace) per publish and per request to
        // point at the caller if it times out: a sixth of a publish's CPU. A failed publish is a
        // KratosError naming the topic already.
        noAsyncTraces: true,
        reconnectTimeWait: this.#options.reconnectWaitMs ?? 250,
        timeout: this.#options.connectTimeoutMs ?? 5000,
      });
    } catch (err) {
      throw brokerUnavailable(
        `nats: cannot connect to ${this.#servers.join(", ")}: ${String(err)}`,
        err,
      );
    }
    this.#watch(nc);
    try {
      const jsm = await client.jetstream.jetstreamManager(nc);
      for (const spec of this.#options.streams ?? []) await ensureStream(jsm, spec);
      return { client, nc, js: client.jetstream.jetstream(nc), jsm };
    } catch (err) {
      await nc.close();
      throw brokerUnavailable(
        `nats: JetStream on ${this.#servers.join(", ")}: ${String(err)}`,
        err,
      );
    }
  }

  /** Logs the connection's losses and returns (one line each, not one per attempt). */
  #watch(nc: NatsConnection): void {
    void (async () => {
      for await (const s of nc.status()) {
        if (s.type === "disconnect") this.#log.warn({ server: s.server }, "nats: disconnected");
        else if (s.type === "reconnect") this.#log.info({ server: s.server }, "nats: reconnected");
      }
    })().catch(() => undefined);
  }

  async publish(
    ctx: Context,
    topic: string,
    body: Uint8Array,
    options: PublishOptions = {},
  ): Promise<PublishAck> {
    try {
      // Once connected and the topic's stream is known, no await before the publish itself.
      const ready = this.#connected ?? (await this.#connect());
      if (!this.#known.has(topic)) {
        await this.#streamOf(ready.jsm, topic);
        this.#known.add(topic);
      }
      const js = ready.js;
      const limit = this.#options.publishTimeoutMs ?? 5000;
      const timeout =
        ctx.deadline === undefined ? limit : Math.min(limit, ctx.deadline - Date.now());
      if (timeout <= 0) throw new Error("deadline exceeded before the publish");
      const headers = toNatsHeaders(options.headers, ready.client.core.headers);
      const ack = await js.publish(topic, body, {
        timeout,
        ...(headers === undefined ? {} : { headers }),
        ...(options.msgId === undefined ? {} : { msgID: options.msgId }),
      });
      return { stream: ack.stream, seq: ack.seq, duplicate: ack.duplicate };
    } catch (err) {
      throw publishFailed(this.name, topic, err);
    }
  }

  async subscribe(
    topic: string,
    handler: DeliveryHandler,
    options: SubscribeOptions = {},
  ): Promise<Subscription> {
    const { client, nc, js, jsm } = await this.#connect();
    let stream = "";
    let name = "";
    const open = async (): Promise<Consumer> => {
      stream = await this.#streamOf(jsm, topic);
      name = await ensureConsumer(client, jsm, stream, topic, options);
      return js.consumers.get(stream, name);
    };
    let consumer: Consumer;
    try {
      consumer = await open();
    } catch (err) {
      throw brokerUnavailable(`nats: subscribe ${topic}: ${String(err)}`, err);
    }
    return startConsumeLoop({
      consumer,
      topic,
      handler,
      options,
      log: this.#log,
      stopTimeoutMs: this.#options.closeTimeoutMs ?? 5000,
      retryMs: this.#options.reconnectWaitMs ?? 250,
      recreate: () => {
        // The stream may be gone too: look it up again.
        this.#streams.delete(topic);
        this.#known.delete(topic);
        return open();
      },
      deadLetter: async (dlqTopic: string, body: Uint8Array, headers: MessageHeaders) => {
        await this.publish(createContext(), dlqTopic, body, { headers });
      },
      flush: () => nc.flush(),
      closed: () => nc.isClosed(),
      ...(options.queue === undefined
        ? {
            // A subscriber's own consumer goes with it; a queue group's stays for the others.
            cleanup: async () => {
              await jsm.consumers.delete(stream, name);
            },
          }
        : {}),
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    const ready = this.#ready;
    this.#ready = undefined;
    this.#connected = undefined;
    if (ready === undefined) return;
    const { nc } = await ready.catch(() => ({ nc: undefined }));
    if (nc === undefined || nc.isClosed()) return;
    // Drain: what was published and acknowledged goes out before the socket closes; with the
    // server gone, the drain would wait for ever: bounded, then closed.
    const limit = this.#options.closeTimeoutMs ?? 5000;
    await bounded(nc.drain(), limit);
    if (!nc.isClosed()) await bounded(nc.close(), limit);
  }

  /** The stream that stores `topic`, created when none does (and the broker may). */
  #streamOf(jsm: JetStreamManager, topic: string): Promise<string> {
    let stream = this.#streams.get(topic);
    if (stream === undefined) {
      stream = this.#findOrCreate(jsm, topic);
      this.#streams.set(topic, stream);
      stream.catch(() => this.#streams.delete(topic));
    }
    return stream;
  }

  async #findOrCreate(jsm: JetStreamManager, topic: string): Promise<string> {
    try {
      return await jsm.streams.find(topic);
    } catch (err) {
      if (this.#options.autoCreateStreams === false) {
        throw new Error(`no stream stores ${topic} (autoCreateStreams is off)`, { cause: err });
      }
      const name = topic.replace(/[^A-Za-z0-9_-]/g, "_");
      const maxAgeMs = this.#options.autoStreamMaxAgeMs ?? autoStreamMaxAgeMs;
      await ensureStream(jsm, {
        name,
        subjects: [topic],
        ...(maxAgeMs > 0 ? { maxAgeMs } : {}),
      });
      return name;
    }
  }
}

/** The default max age of an auto-created stream: 24 hours. */
const autoStreamMaxAgeMs = 24 * 60 * 60 * 1000;

async function ensureStream(jsm: JetStreamManager, spec: StreamSpec): Promise<void> {
  const config = {
    name: spec.name,
    subjects: spec.subjects,
    ...(spec.maxAgeMs === undefined ? {} : { max_age: nanos(spec.maxAgeMs) }),
    ...(spec.duplicateWindowMs === undefined
      ? {}
      : { duplicate_window: nanos(spec.duplicateWindowMs) }),
  };
  try {
    await jsm.streams.add(config);
  } catch {
    // It exists with another config: bring it to this one (another process may have won a race
    // to create it, which makes this a no-op).
    await jsm.streams.update(spec.name, config);
  }
}

/**
 * The durable name of a queue group's consumer on `topic`: one per queue and topic, so that a
 * queue name used on two topics of one stream makes two consumers. Readable (sanitised, cut
 * short), with a hash of both that keeps apart the names sanitising or cutting would merge.
 */
export function durableName(queue: string, topic: string): string {
  const readable = `${queue}_${topic}`.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 48);
  const hash = createHash("sha256").update(`${queue}\0${topic}`).digest("hex").slice(0, 10);
  return `${readable}_${hash}`;
}

/** Creates (or updates) the consumer of a subscription; returns its name. */
async function ensureConsumer(
  client: NatsClient,
  jsm: JetStreamManager,
  stream: string,
  topic: string,
  options: SubscribeOptions,
): Promise<string> {
  const { AckPolicy, DeliverPolicy } = client.jetstream;
  const config: Partial<ConsumerConfig> = {
    ack_policy: AckPolicy.Explicit,
    filter_subject: topic,
    // Unlimited: a delivery the server counts but no handler failed (a killed process, an ack
    // wait past, a nak at stop) must not be the last; the subscriber dead-letters by count.
    max_deliver: -1,
    ack_wait: nanos(options.ackWaitMs ?? subscribeDefaults.ackWaitMs),
  };
  if (options.queue === undefined) {
    // Its own consumer, from now on; the server drops it if the process vanishes.
    const info = await jsm.consumers.add(stream, {
      ...config,
      deliver_policy: DeliverPolicy.New,
      inactive_threshold: nanos(60_000),
    });
    return info.name;
  }
  const durable = durableName(options.queue, topic);
  try {
    await jsm.consumers.add(stream, {
      ...config,
      durable_name: durable,
      deliver_policy: DeliverPolicy.All,
    });
  } catch (err) {
    // The group exists with other settings (a new release changed them): take the new ones.
    const info = await jsm.consumers.info(stream, durable).catch(() => undefined);
    if (info === undefined) throw err;
    try {
      await jsm.consumers.update(stream, durable, {
        max_deliver: config.max_deliver,
        ack_wait: config.ack_wait,
        ...(info.config.filter_subject === topic ? {} : { filter_subject: topic }),
      });
    } catch (updateErr) {
      throw new Error(
        `consumer ${durable} of stream ${stream} (filter ${info.config.filter_subject ?? "none"}) cannot take topic ${topic}: ${String(updateErr)}`,
        { cause: updateErr },
      );
    }
  }
  return durable;
}
