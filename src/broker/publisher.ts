// A typed publisher: a client of the broker, like the HTTP and gRPC clients. The client
// middleware chain runs around every publish (tracing injects the W3C context into the message
// headers, metadata.client adds the metadata of the context).
import { create, isMessage } from "@bufbuild/protobuf";
import type { DescMessage, MessageInitShape } from "@bufbuild/protobuf";
import { createContext } from "../context.js";
import type { Context } from "../context.js";
import { chain } from "../middleware/middleware.js";
import type { Middleware } from "../middleware/middleware.js";
import type { RawHeaders } from "../transport/header.js";
import { clientTransport, setClientTransport, setRequestSchema } from "../transport/transport.js";
import type { Broker, MessageHeaders, PublishAck, PublishOptions } from "./broker.js";
import { encodeEvent, eventHeaders } from "./codec.js";
import type { EventEncoding } from "./codec.js";
import { BrokerTransporter } from "./transporter.js";

/** Options of {@link createPublisher}. */
export interface PublisherOptions<Desc extends DescMessage> {
  /** Where messages go. */
  broker: Broker;
  /** The message type. */
  schema: Desc;
  /** The topic (NATS subject) published to. */
  topic: string;
  /** `proto` (binary, the default) or `json` (proto JSON). */
  encoding?: EventEncoding;
  /** Client middleware around each publish (`tracing.client()`, `metadata.client()`...). */
  middleware?: Middleware[];
}

/** Publishes messages of one type to one topic; see {@link createPublisher}. */
export interface Publisher<Desc extends DescMessage> {
  readonly topic: string;
  /**
   * Runs the client chain around `message`, encodes it and publishes, waiting for the engine's
   * ack within the context's deadline. Rejects with a 503 `BROKER_UNAVAILABLE` KratosError
   * when the engine does not take it. `headers` are sent as given (lower-case names); `msgId`
   * de-duplicates retries.
   */
  publish(
    ctx: Context,
    message: MessageInitShape<Desc>,
    options?: PublishOptions,
  ): Promise<PublishAck>;
}

/** Creates a typed publisher (Kratos-transport's `broker.Publish` with a codec bound to a type). */
export function createPublisher<Desc extends DescMessage>(
  options: PublisherOptions<Desc>,
): Publisher<Desc> {
  const { broker, schema, topic } = options;
  const encoding = options.encoding ?? "proto";
  // The innermost handler: what the chain left in the transport's headers is sent.
  const send = (ctx: Context, req: unknown): Promise<unknown> => {
    const transport = clientTransport(ctx);
    if (!(transport instanceof BrokerTransporter) || !isMessage(req, schema)) {
      // A middleware replaced the request or the transport: a bug in that middleware.
      return Promise.reject(new TypeError(`publish ${topic}: the chain changed the message type`));
    }
    const options: PublishOptions = { headers: toMessageHeaders(transport.requestHeader.raw) };
    if (transport.msgId !== undefined) options.msgId = transport.msgId;
    return broker.publish(ctx, topic, encodeEvent(schema, req, encoding), options);
  };
  const middleware = options.middleware ?? [];
  const handler = chain(...middleware)(send);
  const typeHeaders = eventHeaders(encoding);
  let endpoint: string | undefined;
  return {
    topic,
    async publish(ctx, message, callOptions = {}) {
      const headers = callOptions.headers;
      const merged = headers === undefined ? { ...typeHeaders } : { ...headers, ...typeHeaders };
      if (middleware.length === 0) {
        // Nothing to run around the publish: no call context, no transport to build. The
        // engine bounds the wait by the caller's deadline and its own publish timeout.
        const direct: PublishOptions = { headers: merged };
        if (callOptions.msgId !== undefined) direct.msgId = callOptions.msgId;
        return broker.publish(
          ctx,
          topic,
          encodeEvent(schema, create(schema, message), encoding),
          direct,
        );
      }
      const transport = new BrokerTransporter(
        (endpoint ??= broker.endpoint().href),
        topic,
        merged,
        undefined,
        callOptions.msgId,
      );
      const callCtx = createContext({ parent: ctx });
      setClientTransport(callCtx, transport);
      setRequestSchema(callCtx, schema);
      try {
        // The engine's ack is what the innermost handler resolves with.
        return (await handler(callCtx, create(schema, message))) as PublishAck;
      } finally {
        callCtx.dispose();
      }
    },
  };
}

function toMessageHeaders(raw: RawHeaders): MessageHeaders {
  const out: MessageHeaders = {};
  for (const key in raw) {
    const value = raw[key];
    if (value === undefined) continue;
    out[key] = Array.isArray(value) ? value.join(", ") : String(value);
  }
  return out;
}
