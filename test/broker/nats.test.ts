// The broker on a real nats-server (JetStream): typed publish and consume, the delivery
// contract (nak with backoff, dead letters with the last error, 400 CODEC at once, deadlines,
// max in flight, msgId de-duplication), graceful stop, and the typed errors of an absent server.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { fromBinary } from "@bufbuild/protobuf";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import {
  brokerTransport,
  createBrokerServer,
  createPublisher,
  deadLetterHeaders,
} from "kratos-ts/broker";
import type { Broker, Delivery } from "kratos-ts/broker";
import { createNatsBroker, durableName } from "kratos-ts/broker/nats";
import { createContext } from "kratos-ts/context";
import type { Context } from "kratos-ts/context";
import { KratosError } from "kratos-ts/errors";
import { recovery } from "kratos-ts/middleware";
import { GreetingSchema } from "../../api/helloworld/v1/greeter_pb.js";
import { eventually, freePort } from "../helpers/etcd.js";
import { natsSkip, startNats } from "../helpers/nats.js";
import type { NatsServer } from "../helpers/nats.js";

const fast = { backoff: [10, 20], maxDeliver: 3 };
const count = (ctx: Context) => brokerTransport(ctx)?.deliveryCount ?? 0;

describe("broker on NATS JetStream", { skip: natsSkip(), timeout: 60_000 }, () => {
  let nats: NatsServer;
  let broker: Broker;

  before(async () => {
    nats = await startNats();
    broker = createNatsBroker({ servers: nats.url });
    await broker.connect();
  });
  after(async () => {
    await broker.close();
    await nats.close();
  });

  /** Collects what arrives on a topic (the dead-letter one, usually). */
  async function collect(topic: string): Promise<{ got: Delivery[]; stop: () => Promise<void> }> {
    const got: Delivery[] = [];
    const sub = await broker.subscribe(topic, (d) => {
      got.push(d);
      return Promise.resolve();
    });
    return { got, stop: () => sub.stop() };
  }

  it("delivers typed messages to a queue group, binary and JSON, with their headers", async () => {
    const names: string[] = [];
    const types: string[] = [];
    const server = createBrokerServer({ broker }).subscribe({
      topic: "greetings.created",
      schema: GreetingSchema,
      queue: "counter",
      handler: (g, ctx) => {
        names.push(g.name);
        types.push(brokerTransport(ctx)?.requestHeader.get("content-type") ?? "");
        return Promise.resolve();
      },
    });
    await server.start();
    assert.equal(server.endpoint().href, nats.url);
    const ctx = createContext();
    const proto = createPublisher({ broker, schema: GreetingSchema, topic: "greetings.created" });
    const json = createPublisher({
      broker,
      schema: GreetingSchema,
      topic: "greetings.created",
      encoding: "json",
    });
    const ack = await proto.publish(ctx, { id: 1n, name: "ann" });
    assert.equal(ack.stream, "greetings_created");
    await json.publish(ctx, { id: 2n, name: "bob" }, { headers: { "x-source": "test" } });
    await eventually("two greetings", () => names.length === 2);
    assert.deepEqual(names.sort(), ["ann", "bob"]);
    assert.deepEqual(types.sort(), ["application/json", "application/proto"]);
    await server.stop();
  });

  it("naks a failing message with backoff, then dead-letters it with the last error", async () => {
    const dead = await collect("dlq.orders.failing");
    const attempts: { n: number; at: number }[] = [];
    const server = createBrokerServer({ broker, middleware: [recovery()] }).subscribe({
      topic: "orders.failing",
      schema: GreetingSchema,
      queue: "billing",
      ...fast,
      handler: (_g, ctx) => {
        attempts.push({ n: count(ctx), at: performance.now() });
        return Promise.reject(new Error("database down"));
      },
    });
    await server.start();
    await createPublisher({ broker, schema: GreetingSchema, topic: "orders.failing" }).publish(
      createContext(),
      { id: 7n },
    );
    await eventually("a dead letter", () => dead.got.length === 1);
    assert.deepEqual(
      attempts.map((a) => a.n),
      [1, 2, 3],
    );
    // The naks' delays: at least 10 and 20 ms between deliveries.
    const [a1, a2, a3] = attempts;
    assert.ok(a1 && a2 && a3);
    assert.ok(a2.at - a1.at >= 9 && a3.at - a2.at >= 19, "backoff between deliveries");
    const letter = dead.got[0];
    assert.ok(letter);
    assert.equal(fromBinary(GreetingSchema, letter.body).id, 7n);
    assert.equal(letter.headers[deadLetterHeaders.topic], "orders.failing");
    assert.equal(letter.headers[deadLetterHeaders.deliveries], "3");
    assert.equal(letter.headers[deadLetterHeaders.code], "500");
    assert.equal(letter.headers[deadLetterHeaders.reason], "UNKNOWN");
    assert.equal(letter.headers["content-type"], "application/proto");
    await server.stop();
    await dead.stop();
  });

  it("dead-letters an undecodable message at once as 400 CODEC, and keeps going", async () => {
    const dead = await collect("dlq.orders.garbled");
    const ids: bigint[] = [];
    const codes: string[] = [];
    const server = createBrokerServer({
      broker,
      middleware: [
        (next) => async (ctx, req) => {
          try {
            return await next(ctx, req);
          } catch (err) {
            codes.push(err instanceof KratosError ? `${err.code} ${err.reason}` : String(err));
            throw err;
          }
        },
      ],
    }).subscribe({
      topic: "orders.garbled",
      schema: GreetingSchema,
      queue: "billing",
      ...fast,
      handler: (g) => {
        ids.push(g.id);
        return Promise.resolve();
      },
    });
    await server.start();
    const ctx = createContext();
    await broker.publish(ctx, "orders.garbled", new Uint8Array([0xff, 0xff, 0xff]));
    await createPublisher({ broker, schema: GreetingSchema, topic: "orders.garbled" }).publish(
      ctx,
      {
        id: 9n,
      },
    );
    await eventually(
      "a dead letter and a greeting",
      () => dead.got.length === 1 && ids.length === 1,
    );
    assert.deepEqual(codes, ["400 CODEC"]);
    assert.deepEqual(ids, [9n]);
    const letter = dead.got[0];
    assert.ok(letter);
    assert.equal(letter.headers[deadLetterHeaders.deliveries], "1");
    assert.equal(letter.headers[deadLetterHeaders.reason], "CODEC");
    await server.stop();
    await dead.stop();
  });

  it("naks a handler that outlives its deadline, and the redelivery succeeds", async () => {
    const attempts: number[] = [];
    const server = createBrokerServer({ broker, timeoutMs: 50 }).subscribe({
      topic: "orders.slow",
      schema: GreetingSchema,
      queue: "billing",
      ...fast,
      handler: async (_g, ctx) => {
        attempts.push(count(ctx));
        if (count(ctx) === 1) {
          await new Promise((resolve) => {
            ctx.signal.addEventListener("abort", resolve);
          });
        }
      },
    });
    await server.start();
    await createPublisher({ broker, schema: GreetingSchema, topic: "orders.slow" }).publish(
      createContext(),
      { id: 1n },
    );
    await eventually("a second delivery", () => attempts.length === 2);
    assert.deepEqual(attempts, [1, 2]);
    await server.stop();
  });

  it("keeps max in flight and de-duplicates publishes by msgId", async () => {
    let inFlight = 0;
    let peak = 0;
    let handled = 0;
    const server = createBrokerServer({ broker }).subscribe({
      topic: "orders.bulk",
      schema: GreetingSchema,
      queue: "billing",
      maxInFlight: 3,
      handler: async () => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 5));
        inFlight--;
        handled++;
      },
    });
    await server.start();
    const publisher = createPublisher({ broker, schema: GreetingSchema, topic: "orders.bulk" });
    const ctx = createContext();
    const acks = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        publisher.publish(ctx, { id: BigInt(i) }, { msgId: `o-${i}` }),
      ),
    );
    assert.equal(acks.filter((a) => a.duplicate).length, 0);
    const again = await publisher.publish(ctx, { id: 0n }, { msgId: "o-0" });
    assert.equal(again.duplicate, true);
    await eventually("30 handled", () => handled === 30);
    assert.ok(peak <= 3, `peak in flight ${peak}`);
    assert.ok(peak >= 2, `ran concurrently: peak ${peak}`);
    await server.stop();
  });

  it("stop finishes and acks the message in flight before it resolves", async () => {
    let release: () => void = () => undefined;
    let started = 0;
    const server = createBrokerServer({ broker }).subscribe({
      topic: "orders.stop",
      schema: GreetingSchema,
      queue: "billing",
      handler: async () => {
        started++;
        await new Promise<void>((resolve) => (release = resolve));
      },
    });
    await server.start();
    await createPublisher({ broker, schema: GreetingSchema, topic: "orders.stop" }).publish(
      createContext(),
      { id: 1n },
    );
    await eventually("the handler to start", () => started === 1);
    let stopped = false;
    const stopping = server.stop().then(() => (stopped = true));
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(stopped, false, "stop waits for the handler");
    release();
    await stopping;
    const nc = await connect({ servers: nats.url });
    try {
      const info = await (
        await jetstreamManager(nc)
      ).consumers.info("orders_stop", durableName("billing", "orders.stop"));
      assert.equal(info.num_ack_pending, 0, "acked before stop resolved");
      assert.equal(info.num_pending, 0);
    } finally {
      await nc.close();
    }
  });

  it("a publish the server does not acknowledge is a 503 BROKER_UNAVAILABLE naming the topic", async () => {
    const port = await freePort();
    const nowhere = createNatsBroker({
      servers: `nats://127.0.0.1:${port}`,
      connectTimeoutMs: 500,
    });
    await assert.rejects(nowhere.connect(), (err) => {
      assert.ok(err instanceof KratosError);
      assert.equal(err.code, 503);
      assert.equal(err.reason, "BROKER_UNAVAILABLE");
      assert.match(err.message, new RegExp(`127\\.0\\.0\\.1:${port}`));
      return true;
    });
    // A deadline shorter than any answer: the context's deadline bounds the publish.
    const ctx = createContext({ timeoutMs: 0 });
    await assert.rejects(
      createPublisher({ broker, schema: GreetingSchema, topic: "orders.late" }).publish(ctx, {}),
      (err) =>
        err instanceof KratosError && err.code === 503 && err.metadata["topic"] === "orders.late",
    );
  });
});
