// The subscriber as a transport server: the app starts it after the ports and stops it first;
// every message runs through the server middleware chain like a request, with a Transporter of
// kind "broker" whose operation is the topic and whose request headers are the message's.
import { isMessage } from "@bufbuild/protobuf";
import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import { createContext, deadlineExceeded } from "../context.js";
import type { CancellableContext, Context, ContextValues } from "../context.js";
import type { KratosError } from "../errors/error.js";
import { fromError } from "../errors/from-error.js";
import { chain } from "../middleware/middleware.js";
import type { Handler, Middleware } from "../middleware/middleware.js";
import { setRequestSchema, setServerTransport } from "../transport/transport.js";
import type { Kind, Server } from "../transport/transport.js";
import type {
  Broker,
  Delivery,
  DeliveryHandler,
  SubscribeOptions,
  Subscription,
} from "./broker.js";
import { doneOrAborted } from "../internal/done-or-aborted.js";
import { decodeEvent } from "./codec.js";
import { BrokerTransporter } from "./transporter.js";

/** Options of {@link createBrokerServer}. */
export interface BrokerServerOptions {
  /** The engine messages come from. The server connects it; closing it is the owner's job. */
  broker: Broker;
  /** Server middleware around each message (recovery, tracing, logging, metrics, validate...). */
  middleware?: Middleware[];
  /**
   * Milliseconds a handler has per message: its context's deadline. Past it the message is
   * nak'ed for a redelivery (504), whether the handler is still running or returns late. A
   * handler that ignores its context's signal and runs on no longer holds an in-flight slot
   * (`maxInFlight` does not bound it); stop still waits for it (within its signal).
   * Default 10 000: keep it under the subscription's `ackWaitMs` (30 s by default), or the
   * engine redelivers a message whose handler is still running.
   */
  timeoutMs?: number;
}

/** One subscription of a {@link BrokerServer}. */
export interface SubscriberSpec<Desc extends DescMessage> extends SubscribeOptions {
  /** The topic (NATS subject) to consume. */
  topic: string;
  /** The message type; bodies that do not decode as it fail with 400 `CODEC`. */
  schema: Desc;
  /**
   * Handles one message. Returning (or resolving) acknowledges it; throwing (or rejecting) naks
   * it for a later redelivery (or dead-letters it, see {@link SubscribeOptions}).
   */
  handler: (message: MessageShape<Desc>, ctx: Context) => Promise<void> | void;
  /** Milliseconds per message for this topic. Default: the server's `timeoutMs`. */
  timeoutMs?: number;
}

/** An event subscriber served by the app; see {@link createBrokerServer}. */
export interface BrokerServer extends Server {
  readonly kind: Kind;
  /** Adds a subscription; call before start. */
  subscribe<Desc extends DescMessage>(spec: SubscriberSpec<Desc>): this;
}

/**
 * Creates the event subscriber: a {@link Server} of kind `broker` (Kratos's `examples/event`
 * server). `createApp({ servers: [http, grpc, events] })` starts it after the others and stops
 * it first; stop lets the messages in flight finish and acknowledges them.
 */
export function createBrokerServer(options: BrokerServerOptions): BrokerServer {
  return new EventServer(options);
}

/**
 * Passed through the chain instead of the message when the body does not decode, so that the
 * chain (logging, metrics, tracing) sees the 400 `CODEC` error as it would on a request.
 */
class Undecodable {
  constructor(readonly error: KratosError) {}
  toJSON(): string {
    return "[undecodable message]";
  }
}

class EventServer implements BrokerServer {
  readonly kind: Kind = "broker";
  readonly #options: BrokerServerOptions;
  // Each subscription's handler is built at start (it needs the endpoint and the app's values).
  readonly #specs: { topic: string; options: SubscribeOptions; handler: () => DeliveryHandler }[] =
    [];
  readonly #subscriptions: Subscription[] = [];
  // Aborted by a forced stop: the handlers still running see their context cancelled. A new
  // one per start, so a server started again after a forced stop is not born cancelled.
  #abandon = new AbortController();
  // Handlers past their deadline still running (their messages nak'ed already): stop waits.
  readonly #overdue = new Set<Promise<unknown>>();
  #values: ContextValues | undefined;
  #started = false;

  constructor(options: BrokerServerOptions) {
    this.#options = options;
  }

  subscribe<Desc extends DescMessage>(spec: SubscriberSpec<Desc>): this {
    if (this.#started) throw new Error(`broker server: subscribe ${spec.topic} after start`);
    this.#specs.push({
      topic: spec.topic,
      options: spec,
      handler: () => this.#deliveryHandler(spec),
    });
    return this;
  }

  endpoint(): URL {
    return this.#options.broker.endpoint();
  }

  async start(ctx?: Context): Promise<void> {
    this.#started = true;
    this.#values = ctx?.values;
    if (this.#abandon.signal.aborted) this.#abandon = new AbortController();
    const broker = this.#options.broker;
    await broker.connect();
    try {
      for (const spec of this.#specs) {
        this.#subscriptions.push(await broker.subscribe(spec.topic, spec.handler(), spec.options));
      }
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  async stop(signal?: AbortSignal): Promise<void> {
    const subscriptions = this.#subscriptions.splice(0);
    const onAbort = () => {
      this.#abandon.abort(signal?.reason);
    };
    if (signal?.aborted === true) onAbort();
    else signal?.addEventListener("abort", onAbort, { once: true });
    try {
      await Promise.all(subscriptions.map((s) => s.stop(signal)));
      await doneOrAborted(Promise.allSettled([...this.#overdue]), signal);
    } finally {
      signal?.removeEventListener("abort", onAbort);
    }
  }

  #deliveryHandler<Desc extends DescMessage>(spec: SubscriberSpec<Desc>): DeliveryHandler {
    const { schema, topic } = spec;
    const timeoutMs = spec.timeoutMs ?? this.#options.timeoutMs ?? 10_000;
    const endpoint = this.endpoint().href;
    // Not async: the user's promise is passed on as it is, so the ack goes out fewer
    // microtasks after the message came in (and more often in the same socket write).
    const handle: Handler = (ctx, req) => {
      if (req instanceof Undecodable) return Promise.reject(req.error);
      if (!isMessage(req, schema)) {
        return Promise.reject(
          new TypeError(`broker server: a middleware replaced the ${topic} message`),
        );
      }
      try {
        const done = spec.handler(req, ctx);
        return done instanceof Promise ? done : Promise.resolve();
      } catch (err) {
        // A handler that throws before returning its promise fails the same way.
        return Promise.reject(err instanceof Error ? err : new Error(String(err)));
      }
    };
    const middleware = this.#options.middleware ?? [];
    const handler = middleware.length === 0 ? handle : chain(...middleware)(handle);
    return (delivery: Delivery) => {
      let req: unknown;
      try {
        req = decodeEvent(schema, delivery.body, delivery.headers);
      } catch (err) {
        req = new Undecodable(fromError(err));
      }
      const ctx = createContext({
        values: this.#values,
        timeoutMs,
        signal: this.#abandon.signal,
      });
      setServerTransport(ctx, new BrokerTransporter(endpoint, topic, delivery.headers, delivery));
      setRequestSchema(ctx, schema);
      return settleWithin(handler(ctx, req), timeoutMs, ctx, this.#overdue);
    };
  }
}

/**
 * The handler's outcome, or a 504 once `timeoutMs` pass: a handler that never settles must not
 * hold its message (and its in-flight slot) for ever. The context is aborted so the handler can
 * see it, and disposed once the call is over; until then the call is in `overdue` (a stop waits
 * for it).
 */
function settleWithin(
  call: Promise<unknown>,
  timeoutMs: number,
  ctx: CancellableContext,
  overdue: Set<Promise<unknown>>,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      const reason = deadlineExceeded();
      ctx.abort(reason);
      const tracked = call.then(noop, noop).finally(() => overdue.delete(tracked));
      overdue.add(tracked);
      reject(reason);
    }, timeoutMs);
    call.then(
      () => {
        clearTimeout(timer);
        // Past its deadline (the context's own timer may fire first and make the handler
        // return early), or cancelled by a forced stop: the work may be cut short, so the
        // message is not acknowledged.
        const late = ctx.aborted;
        ctx.dispose();
        if (late) reject(deadlineExceeded());
        else resolve();
      },
      (err: unknown) => {
        clearTimeout(timer);
        ctx.dispose();
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}

function noop(): void {
  // Settled is all that matters here.
}
