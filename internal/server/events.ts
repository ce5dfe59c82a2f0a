// The events server (`data.nats`): a subscriber of helloworld.v1.GreetingCreated served by the
// app like the HTTP and gRPC servers (started after them, stopped before them), with the same
// recovery, tracing, logging and metrics around every message as around every call.
import { createBrokerServer } from "kratos-ts/broker";
import type { Broker, BrokerServer } from "kratos-ts/broker";
import { KratosError, reasons } from "kratos-ts/errors";
import type { Logger } from "kratos-ts/log";
import { logging, metrics, recovery, tracing, validate } from "kratos-ts/middleware";
import type { Context } from "kratos-ts/context";
import type { Server } from "kratos-ts/transport";
import { GreetingCreatedSchema } from "../../api/helloworld/v1/greeter_pb.js";
import { greetingsCreatedTopic } from "../data/events.js";

/**
 * The events server, or undefined without a broker. Its subscriber counts greetings: the
 * instances of the service share the topic as one queue group, each greeting counted once.
 */
export function newEventServer(
  broker: Broker | undefined,
  log: Logger,
  addr: string,
): Server | undefined {
  if (broker === undefined) return undefined;
  const events = log.child({ module: "server/events" });
  let greetings = 0;
  const server = createBrokerServer({
    broker,
    middleware: [
      recovery({ logger: events }),
      tracing.server(),
      logging.server({ logger: events }),
      metrics.server(),
      validate(),
    ],
  }).subscribe({
    topic: greetingsCreatedTopic,
    schema: GreetingCreatedSchema,
    queue: "helloworld-greetings",
    handler: (greeting) => {
      greetings++;
      events.info({ name: greeting.name, greetings }, "greeting counted");
    },
  });
  return namingTheKey(server, addr);
}

/** The server, whose start names the config key when it cannot reach NATS (one line). */
function namingTheKey(server: BrokerServer, addr: string): Server {
  return {
    kind: server.kind,
    async start(ctx?: Context) {
      try {
        await server.start(ctx);
      } catch (err) {
        const detail = err instanceof Error ? err.message : String(err);
        throw new KratosError(503, reasons.brokerUnavailable, `data.nats.addr ${addr}: ${detail}`, {
          cause: err,
        });
      }
    },
    stop: (signal?: AbortSignal) => server.stop(signal),
    endpoint: () => server.endpoint(),
  };
}
