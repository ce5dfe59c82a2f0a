// The broker on a real nats-server, for what a review found: a message whose last delivery
// ends without a handler error is still handled or dead-lettered; stop and close end with the
// server gone; a queue name on two topics of one stream; a deleted consumer comes back; a
// closed broker stays closed.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { AckPolicy, jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { createBrokerServer, deadLetterHeaders } from "kratos-ts/broker";
import type { Broker, Delivery } from "kratos-ts/broker";
import { createNatsBroker, durableName } from "kratos-ts/broker/nats";
import { createContext } from "kratos-ts/context";
import { KratosError } from "kratos-ts/errors";
import { GreetingSchema } from "../../api/helloworld/v1/greeter_pb.js";
import { eventually } from "../helpers/etcd.js";
import { natsSkip, startNats } from "../helpers/nats.js";
import type { NatsServer } from "../helpers/nats.js";

const body = new TextEncoder().encode("x");

describe("broker on NATS JetStream: review fixes", { skip: natsSkip(), timeout: 60_000 }, () => {
  let nats: NatsServer;
  let broker: Broker;

  before(async () => {
    nats = await startNats();
    broker = createNatsBroker({
      servers: nats.url,
      streams: [{ name: "multi", subjects: ["multi.>"] }],
    });
    await broker.connect();
  });
  after(async () => {
    await broker.close();
    await nats.close();
  });

  it("a message whose last allowed delivery outlives the ack wait is still dead-lettered", async () => {
    const dead: Delivery[] = [];
    const dlq = await broker.subscribe("dlq.orders.lastwait", (d) => {
      dead.push(d);
      return Promise.resolve();
    });
    const counts: number[] = [];
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const sub = await broker.subscribe(
      "orders.lastwait",
      (d) => {
        counts.push(d.deliveryCount);
        // The first delivery fails; the second (the last allowed) hangs past the ack wait, as
        // a killed process would hold it; the third fails again.
        if (d.deliveryCount === 2) return held;
        return Promise.reject(new Error(`failed on delivery ${d.deliveryCount}`));
      },
      { queue: "lastwait", maxDeliver: 2, backoff: [10], ackWaitMs: 300 },
    );
    try {
      await broker.publish(createContext(), "orders.lastwait", body);
      await eventually("the dead letter", () => dead.length === 1);
      assert.deepEqual(counts, [1, 2, 3]);
      const headers = dead[0]?.headers ?? {};
      assert.equal(headers[deadLetterHeaders.deliveries], "3");
      assert.equal(headers[deadLetterHeaders.message], "failed on delivery 3");
    } finally {
      release();
      await sub.stop();
      await dlq.stop();
    }
  });

  it("a queue name used on two topics of one stream makes two consumers", async () => {
    const got: Record<string, string[]> = { a: [], b: [] };
    const subscribe = (topic: string, into: string[]) =>
      broker.subscribe(
        topic,
        (d) => {
          into.push(d.topic);
          return Promise.resolve();
        },
        { queue: "shared" },
      );
    const a = await subscribe("multi.a", got["a"] ?? []);
    const b = await subscribe("multi.b", got["b"] ?? []);
    try {
      await broker.publish(createContext(), "multi.a", body);
      await broker.publish(createContext(), "multi.b", body);
      await eventually("both messages", () => got["a"]?.length === 1 && got["b"]?.length === 1);
      assert.deepEqual(got, { a: ["multi.a"], b: ["multi.b"] });
      assert.notEqual(durableName("shared", "multi.a"), durableName("shared", "multi.b"));
    } finally {
      await a.stop();
      await b.stop();
    }
  });

  it("a queue group's consumer with another filter is moved to the topic, or the subscribe fails saying so", async () => {
    const nc = await connect({ servers: nats.url });
    try {
      const jsm = await jetstreamManager(nc);
      const durable = durableName("stale", "multi.c");
      await jsm.consumers.add("multi", {
        durable_name: durable,
        filter_subject: "multi.d",
        ack_policy: AckPolicy.Explicit,
      });
      const moved = await broker
        .subscribe("multi.c", () => Promise.resolve(), { queue: "stale" })
        .then(
          (sub) => sub,
          (err: unknown) => {
            // nats-server before 2.10 cannot change a consumer's filter: a loud failure.
            assert.match(String(err), /cannot take topic multi\.c/);
            return undefined;
          },
        );
      if (moved !== undefined) {
        assert.equal((await jsm.consumers.info("multi", durable)).config.filter_subject, "multi.c");
        await moved.stop();
      }
    } finally {
      await nc.close();
    }
  });

  it("a second stop waits for the first, which waits for the message in flight", async () => {
    let release: () => void = () => undefined;
    let started = false;
    let finished = false;
    const sub = await broker.subscribe(
      "orders.twice",
      async () => {
        started = true;
        await new Promise<void>((resolve) => (release = resolve));
        finished = true;
      },
      { queue: "twice" },
    );
    await broker.publish(createContext(), "orders.twice", body);
    await eventually("the handler to start", () => started);
    const first = sub.stop();
    let secondDone = false;
    const second = sub.stop().then(() => (secondDone = true));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(secondDone, false, "the second stop waits");
    release();
    await Promise.all([first, second]);
    assert.equal(finished, true);
  });

  it("a consumer deleted while subscribed is recreated, and the next message handled", async () => {
    const got: number[] = [];
    const sub = await broker.subscribe(
      "orders.deleted",
      (d) => {
        got.push(d.seq);
        return Promise.resolve();
      },
      { queue: "deleted" },
    );
    const nc = await connect({ servers: nats.url });
    try {
      await broker.publish(createContext(), "orders.deleted", body);
      await eventually("the first message", () => got.length === 1);
      const jsm = await jetstreamManager(nc);
      await jsm.consumers.delete("orders_deleted", durableName("deleted", "orders.deleted"));
      const ack = await broker.publish(createContext(), "orders.deleted", body);
      await eventually("the message after the delete", () => got.includes(ack.seq), 30_000);
    } finally {
      await nc.close();
      await sub.stop();
    }
  });

  it("publish and subscribe after close are 503 BROKER_UNAVAILABLE, and open nothing", async () => {
    const closing = createNatsBroker({ servers: nats.url });
    await closing.publish(createContext(), "orders.closed", body);
    await closing.close();
    const unavailable = (err: unknown) => {
      assert.ok(err instanceof KratosError);
      assert.equal(err.code, 503);
      assert.equal(err.reason, "BROKER_UNAVAILABLE");
      return true;
    };
    await assert.rejects(closing.publish(createContext(), "orders.closed", body), unavailable);
    await assert.rejects(
      closing.subscribe("orders.closed", () => Promise.resolve()),
      unavailable,
    );
    await assert.rejects(closing.connect(), unavailable);
  });
});

describe(
  "broker on NATS JetStream: the server gone at shutdown",
  { skip: natsSkip(), timeout: 60_000 },
  () => {
    it("the subscriber's stop and the broker's close end within their bound", async () => {
      const nats = await startNats();
      const broker = createNatsBroker({ servers: nats.url, closeTimeoutMs: 200 });
      try {
        const server = createBrokerServer({ broker })
          .subscribe({
            topic: "gone.queue",
            schema: GreetingSchema,
            queue: "gone",
            handler: () => undefined,
          })
          .subscribe({ topic: "gone.own", schema: GreetingSchema, handler: () => undefined });
        await server.start();
        await nats.stop();
        // Each is bounded by closeTimeoutMs (200 ms), with room for busy cores; unbounded, the
        // flush, the consumer's delete and the drain wait for a server that is not there.
        assert.equal(await within(server.stop(), 3000), "done");
        assert.equal(await within(broker.close(), 3000), "done");
      } finally {
        await nats.close();
      }
    });
  },
);

/** "done" when `work` settles within `ms`, else "hung". */
async function within(work: Promise<void>, ms: number): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<string>((resolve) => {
    timer = setTimeout(() => {
      resolve("hung");
    }, ms);
  });
  try {
    return await Promise.race([work.then(() => "done"), bound]);
  } finally {
    clearTimeout(timer);
  }
}
