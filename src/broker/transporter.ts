// The Transporter of an event: kind "broker", operation = the topic, request headers = the
// message's headers, so middleware written for HTTP and gRPC reads an event the same way.
import type { Context } from "../context.js";
import { NodeHeader } from "../transport/header.js";
import { clientTransport, serverTransport } from "../transport/transport.js";
import type { Kind, Transporter } from "../transport/transport.js";
import type { Delivery } from "./broker.js";

/** The transport of a message a subscriber handles, or one a publisher sends. */
export class BrokerTransporter implements Transporter {
  readonly kind: Kind = "broker";
  readonly requestHeader: NodeHeader;
  #replyHeader: NodeHeader | undefined;

  constructor(
    /** The engine's address (`nats://127.0.0.1:4222`). */
    readonly endpoint: string,
    /** The topic. */
    readonly operation: string,
    headers: Record<string, string>,
    /** The message being handled (server side). */
    readonly delivery?: Delivery,
    /** The de-duplication id of a publish, if any (client side). */
    readonly msgId?: string,
  ) {
    this.requestHeader = new NodeHeader(headers);
  }

  /** 1 on the first delivery, 2 on the first redelivery...; 0 on the publishing side. */
  get deliveryCount(): number {
    return this.delivery?.deliveryCount ?? 0;
  }

  /** The stream sequence of the message; 0 on the publishing side. */
  get seq(): number {
    return this.delivery?.seq ?? 0;
  }

  /** Events have no reply; kept for middleware that writes one anyway. */
  get replyHeader(): NodeHeader {
    return (this.#replyHeader ??= new NodeHeader({}));
  }
}

/** The broker transport of the message a subscriber is handling, or undefined elsewhere. */
export function brokerTransport(ctx: Context): BrokerTransporter | undefined {
  const t = serverTransport(ctx) ?? clientTransport(ctx);
  return t instanceof BrokerTransporter ? t : undefined;
}
