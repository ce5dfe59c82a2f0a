// The in-memory engine, for unit tests of publishers, subscribers and their middleware: the
// same delivery contract as JetStream (queue groups, durable positions, ack, nak with backoff,
// dead-letter after N deliveries, max in flight, msgId de-duplication) inside one process.
import type { Context } from "../../context.js";
import { doneOrAborted } from "../../internal/done-or-aborted.js";
import type {
  Broker,
  Delivery,
  DeliveryHandler,
  MessageHeaders,
  PublishAck,
  PublishOptions,
  SubscribeOptions,
  Subscription,
} from "../broker.js";
import { publishFailed, settle, subscribeDefaults } from "../settle.js";

/** Options of {@link createMemoryBroker}. */
export interface MemoryBrokerOptions {
  /** What {@link Broker.endpoint} says. Default `memory://local`. */
  endpoint?: string;
}

/** The in-memory engine; see {@link createMemoryBroker}. */
export interface MemoryBroker extends Broker {
  /** Messages published to `topic` so far (dead letters included, under their topic). */
  published(topic: string): readonly Delivery[];
}

/**
 * Creates an in-memory broker for unit tests. Messages are kept for the life of the broker, so
 * a queue group that subscribes late gets what was published before it (as a durable consumer
 * does); a subscriber without a queue gets only what comes after it. There is no ack timeout:
 * nothing here can crash without the test knowing.
 */
export function createMemoryBroker(options: MemoryBrokerOptions = {}): MemoryBroker {
  return new Memory(options.endpoint ?? "memory://local");
}

interface Stored {
  readonly seq: number;
  readonly body: Uint8Array;
  readonly headers: MessageHeaders;
}

interface Member {
  readonly handler: DeliveryHandler;
  readonly limit: number;
  readonly running: Set<Promise<void>>;
}

/** A queue group (or a lone subscriber): its pending messages and the members taking them. */
class Group {
  readonly pending: { stored: Stored; count: number }[] = [];
  readonly members: Member[] = [];
  next = 0;

  constructor(
    readonly topic: string,
    readonly options: SubscribeOptions,
  ) {}
}

class TopicState {
  readonly log: Stored[] = [];
  readonly ids = new Set<string>();
  readonly groups = new Map<string, Group>();
  readonly loners = new Set<Group>();
}

class Memory implements MemoryBroker {
  readonly name = "memory";
  readonly #endpoint: URL;
  readonly #topics = new Map<string, TopicState>();
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();
  #seq = 0;
  #closed = false;

  constructor(endpoint: string) {
    this.#endpoint = new URL(endpoint);
  }

  connect(): Promise<void> {
    return Promise.resolve();
  }

  endpoint(): URL {
    return this.#endpoint;
  }

  published(topic: string): readonly Delivery[] {
    return (this.#topics.get(topic)?.log ?? []).map((s) => ({
      topic,
      body: s.body,
      headers: s.headers,
      deliveryCount: 0,
      seq: s.seq,
    }));
  }

  publish(
    ctx: Context,
    topic: string,
    body: Uint8Array,
    options: PublishOptions = {},
  ): Promise<PublishAck> {
    if (this.#closed) return Promise.reject(publishFailed(this.name, topic, "broker closed"));
    if (ctx.deadline !== undefined && Date.now() >= ctx.deadline) {
      return Promise.reject(publishFailed(this.name, topic, "deadline exceeded"));
    }
    const state = this.#topic(topic);
    if (options.msgId !== undefined) {
      if (state.ids.has(options.msgId)) {
        return Promise.resolve({ stream: topic, seq: 0, duplicate: true });
      }
      state.ids.add(options.msgId);
    }
    const seq = this.#append(state, body, { ...options.headers });
    return Promise.resolve({ stream: topic, seq, duplicate: false });
  }

  subscribe(
    topic: string,
    handler: DeliveryHandler,
    options: SubscribeOptions = {},
  ): Promise<Subscription> {
    const state = this.#topic(topic);
    let group: Group;
    if (options.queue === undefined) {
      group = new Group(topic, options);
      state.loners.add(group);
    } else {
      const existing = state.groups.get(options.queue);
      if (existing === undefined) {
        group = new Group(topic, options);
        // A durable group starts at the beginning of the topic.
        for (const stored of state.log) group.pending.push({ stored, count: 0 });
        state.groups.set(options.queue, group);
      } else group = existing;
    }
    const member: Member = {
      handler,
      limit: options.maxInFlight ?? subscribeDefaults.maxInFlight,
      running: new Set(),
    };
    group.members.push(member);
    this.#pump(group);
    return Promise.resolve({
      stop: async (signal?: AbortSignal) => {
        const at = group.members.indexOf(member);
        if (at >= 0) group.members.splice(at, 1);
        if (options.queue === undefined) state.loners.delete(group);
        await doneOrAborted(Promise.allSettled([...member.running]), signal);
      },
    });
  }

  close(): Promise<void> {
    this.#closed = true;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    return Promise.resolve();
  }

  #topic(topic: string): TopicState {
    let state = this.#topics.get(topic);
    if (state === undefined) {
      state = new TopicState();
      this.#topics.set(topic, state);
    }
    return state;
  }

  /** Hands pending messages to members with a free slot, round robin. */
  #pump(group: Group): void {
    while (group.pending.length > 0) {
      const member = this.#freeMember(group);
      if (member === undefined) return;
      const entry = group.pending.shift();
      if (entry === undefined) return;
      this.#deliver(group, member, entry.stored, entry.count + 1);
    }
  }

  #freeMember(group: Group): Member | undefined {
    const n = group.members.length;
    for (let i = 0; i < n; i++) {
      const member = group.members[(group.next + i) % n];
      if (member !== undefined && member.running.size < member.limit) {
        group.next = (group.next + i + 1) % n;
        return member;
      }
    }
    return undefined;
  }

  #deliver(group: Group, member: Member, stored: Stored, count: number): void {
    const delivery: Delivery = {
      topic: group.topic,
      body: stored.body,
      headers: stored.headers,
      deliveryCount: count,
      seq: stored.seq,
    };
    // In a microtask, as from a socket: never inside the publisher's call (or its trace).
    const run = Promise.resolve()
      .then(() => member.handler(delivery))
      .catch((err: unknown) => {
        const decision = settle(delivery, err, group.options);
        if (decision.action === "nak") this.#redeliverLater(group, stored, count, decision.delayMs);
        else this.#append(this.#topic(decision.topic), stored.body, decision.headers);
      })
      .finally(() => {
        member.running.delete(run);
        this.#pump(group);
      });
    member.running.add(run);
  }

  #redeliverLater(group: Group, stored: Stored, count: number, delayMs: number): void {
    if (this.#closed) return;
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      group.pending.push({ stored, count });
      this.#pump(group);
    }, delayMs);
    this.#timers.add(timer);
  }

  /** Stores a message on its topic and offers it to every group there; returns its seq. */
  #append(state: TopicState, body: Uint8Array, headers: MessageHeaders): number {
    const stored: Stored = { seq: ++this.#seq, body, headers };
    state.log.push(stored);
    for (const group of [...state.groups.values(), ...state.loners]) {
      group.pending.push({ stored, count: 0 });
      this.#pump(group);
    }
    return stored.seq;
  }
}
