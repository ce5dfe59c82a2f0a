// The Done-when line of issue 24 for a NATS restart: 10,000 messages published across a restart
// of nats-server are all handled (counted by id; duplicates allowed and counted, none missing),
// and the subscriber reconnects by itself.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { createBrokerServer, createPublisher } from "kratos-ts/broker";
import type { Broker } from "kratos-ts/broker";
import { createNatsBroker } from "kratos-ts/broker/nats";
import { createContext } from "kratos-ts/context";
import { GreetingSchema } from "../../api/helloworld/v1/greeter_pb.js";
import { eventually } from "../helpers/etcd.js";
import { natsSkip, startNats } from "../helpers/nats.js";
import type { NatsServer } from "../helpers/nats.js";

const total = 10_000;
const window = 200;

describe("broker across a NATS restart", { skip: natsSkip(), timeout: 120_000 }, () => {
  let nats: NatsServer;
  let broker: Broker;

  before(async () => {
    nats = await startNats();
    broker = createNatsBroker({ servers: nats.url, reconnectWaitMs: 100, publishTimeoutMs: 2000 });
  });
  after(async () => {
    await broker.close();
    await nats.close();
  });

  it("handles every one of 10,000 messages published while the server restarts", async (t) => {
    const seen = new Map<bigint, number>();
    const server = createBrokerServer({ broker }).subscribe({
      topic: "load.greetings",
      schema: GreetingSchema,
      queue: "load",
      // Acks lost with the connection come back after this; keep the tail of the test short.
      ackWaitMs: 5000,
      maxInFlight: 128,
      handler: (g) => {
        seen.set(g.id, (seen.get(g.id) ?? 0) + 1);
        return Promise.resolve();
      },
    });
    await server.start();
    const publisher = createPublisher({ broker, schema: GreetingSchema, topic: "load.greetings" });
    let failures = 0;
    // Publishes one message until JetStream acknowledges it; the msgId makes retries safe.
    const publish = async (i: number) => {
      for (;;) {
        try {
          await publisher.publish(createContext(), { id: BigInt(i) }, { msgId: `load-${i}` });
          return;
        } catch {
          failures++;
          await delay(50);
        }
      }
    };
    let restart: Promise<void> | undefined;
    for (let start = 0; start < total; start += window) {
      await Promise.all(
        Array.from({ length: Math.min(window, total - start) }, (_, k) => publish(start + k)),
      );
      // A third in, with messages still in flight both ways: restart on the same store.
      if (restart === undefined && start >= total / 3) restart = nats.restart();
    }
    await restart;
    assert.ok(nats.running());
    await eventually("every message handled", () => seen.size === total, 60_000);
    const duplicates = [...seen.values()].reduce((sum, n) => sum + n - 1, 0);
    t.diagnostic(
      `${total} handled; ${duplicates} duplicate deliveries; ${failures} publish retries`,
    );
    for (let i = 0; i < total; i++) assert.ok(seen.has(BigInt(i)), `message ${i} handled`);
    assert.ok(failures > 0, "the restart was felt by the publisher");
    await server.stop();
  });
});
