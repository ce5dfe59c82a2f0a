// The greeting events on NATS JetStream (`data.nats`): the broker, and the biz layer's
// GreetingEvents as a typed publisher of helloworld.v1.GreetingCreated.
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { createPublisher } from "kratos-ts/broker";
import type { Broker, Publisher } from "kratos-ts/broker";
import { createNatsBroker } from "kratos-ts/broker/nats";
import type { Context } from "kratos-ts/context";
import type { Logger } from "kratos-ts/log";
import { metadata, tracing } from "kratos-ts/middleware";
import { GreetingCreatedSchema } from "../../api/helloworld/v1/greeter_pb.js";
import type { Greeting, GreetingEvents } from "../biz/greeting.js";
import type { Data_Nats } from "../conf/conf_pb.js";

/** The topic (NATS subject) of helloworld.v1.GreetingCreated. */
export const greetingsCreatedTopic = "helloworld.greetings.created";

/**
 * The broker of `data.nats`, or undefined when it is not set. It connects when the events
 * server starts (a bad address fails the start, naming `data.nats.addr`).
 */
export function openBroker(conf: Data_Nats | undefined, log: Logger): Broker | undefined {
  if (conf === undefined || conf.addr === "") return undefined;
  const addr = natsAddress(conf.addr);
  return createNatsBroker({
    servers: addr,
    name: "helloworld",
    logger: log.child({ module: "data/nats" }),
  });
}

/**
 * `data.nats.addr` as a NATS URL (`host:port` or `nats://host:port`), or an error naming the key:
 * a malformed address fails the startup in one line, not later as an "Invalid URL".
 */
export function natsAddress(addr: string): string {
  const url = addr.includes("://") ? addr : `nats://${addr}`;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`data.nats.addr: ${JSON.stringify(addr)} is not a host:port address`);
  }
  if (parsed.hostname === "")
    throw new Error(`data.nats.addr: ${JSON.stringify(addr)} has no host`);
  if (!["nats:", "tls:"].includes(parsed.protocol)) {
    throw new Error(`data.nats.addr: ${JSON.stringify(addr)}: unknown scheme ${parsed.protocol}`);
  }
  return url;
}

/** GreetingEvents on the broker, or a silent one without it. */
export function greetingEvents(broker: Broker | undefined): GreetingEvents {
  if (broker === undefined) return { enabled: false, greeted: () => Promise.resolve() };
  return new PublishedGreetingEvents(
    createPublisher({
      broker,
      schema: GreetingCreatedSchema,
      topic: greetingsCreatedTopic,
      // The trace of the SayHello call and its x-md-global- metadata travel with the event.
      middleware: [tracing.client(), metadata.client()],
    }),
  );
}

class PublishedGreetingEvents implements GreetingEvents {
  readonly enabled = true;

  constructor(readonly publisher: Publisher<typeof GreetingCreatedSchema>) {}

  async greeted(ctx: Context, greeting: Omit<Greeting, "id">): Promise<void> {
    await this.publisher.publish(ctx, {
      name: greeting.name,
      message: greeting.message,
      createTime: timestampFromDate(greeting.createTime),
    });
  }
}
