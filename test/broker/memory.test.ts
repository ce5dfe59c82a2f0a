// The broker seam on the in-memory engine: typed publish and subscribe, the middleware chain
// per message, and the delivery contract (nak with backoff, dead letters, max in flight,
// de-duplication, graceful stop) that the NATS engine also keeps.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fromBinary } from "@bufbuild/protobuf";
import {
  brokerTransport,
  createBrokerServer,
  createMemoryBroker,
  createPublisher,
  deadLetterHeaders,
} from "kratos-ts/broker";
import type { BrokerServer, Delivery } from "kratos-ts/broker";
import { createContext } from "kratos-ts/context";
import type { Context } from "kratos-ts/context";
import { fromError } from "kratos-ts/errors";
import { appendClientMetadata, serverMetadata } from "kratos-ts/metadata";
import { metadata, recovery, validate } from "kratos-ts/middleware";
import type { Middleware } from "kratos-ts/middleware";
import { serverTransport } from "kratos-ts/transport";
import { GreetingSchema, HelloRequestSchema } from "../../api/helloworld/v1/greeter_pb.js";
import type { Greeting } from "../../api/helloworld/v1/greeter_pb.js";
import { eventually } from "../helpers/etcd.js";

const fast = { backoff: [5, 10], maxDeliver: 3 };

/** Records what the chain saw of each message: kind, operation, outcome. */
function observing(
  seen: { kind: string; operation: string; code: number; reason: string }[],
): Middleware {
  return (next) =>
    async function observe(ctx, req) {
      const t = serverTransport(ctx);
      try {
        const reply = await next(ctx, req);
        seen.push({ kind: t?.kind ?? "", operation: t?.operation ?? "", code: 200, reason: "" });
        return reply;
      } catch (err) {
        const e = fromError(err);
        seen.push({
          kind: t?.kind ?? "",
          operation: t?.operation ?? "",
          code: e.code,
          reason: e.reason,
        });
        throw err;
      }
    };
}

async function running(server: BrokerServer): Promise<BrokerServer> {
  await server.start();
  return server;
}

describe("broker on the memory engine", () => {
  it("delivers typed messages, binary and JSON, through the server chain", async () => {
    const broker = createMemoryBroker();
    const got: Greeting[] = [];
    const seen: { kind: string; operation: string; code: number; reason: string }[] = [];
    const server = await running(
      createBrokerServer({ broker, middleware: [observing(seen)] }).subscribe({
        topic: "greetings.created",
        schema: GreetingSchema,
        queue: "counter",
        handler: (greeting) => {
          got.push(greeting);
          return Promise.resolve();
        },
      }),
    );
    const ctx = createContext();
    await createPublisher({ broker, schema: GreetingSchema, topic: "greetings.created" }).publish(
      ctx,
      { id: 1n, name: "ann" },
    );
    await createPublisher({
      broker,
      schema: GreetingSchema,
      topic: "greetings.created",
      encoding: "json",
    }).publish(ctx, { id: 2n, name: "bob" });
    await eventually("two greetings", () => got.length === 2);
    assert.deepEqual(
      got.map((g) => [g.id, g.name]),
      [
        [1n, "ann"],
        [2n, "bob"],
      ],
    );
    assert.deepEqual(seen[0], {
      kind: "broker",
      operation: "greetings.created",
      code: 200,
      reason: "",
    });
    const [binary, json] = broker.published("greetings.created");
    assert.ok(binary !== undefined && json !== undefined);
    assert.equal(binary.headers["content-type"], "application/proto");
    assert.equal(json.headers["content-type"], "application/json");
    assert.equal(new TextDecoder().decode(json.body), '{"id":"2","name":"bob"}');
    await server.stop();
  });

  it("naks a failing message with backoff, then dead-letters it with the last error", async () => {
    const broker = createMemoryBroker();
    const counts: number[] = [];
    const dead: Delivery[] = [];
    await broker.subscribe("dlq.orders", (d) => {
      dead.push(d);
      return Promise.resolve();
    });
    const server = await running(
      createBrokerServer({ broker, middleware: [recovery()] }).subscribe({
        topic: "orders",
        schema: GreetingSchema,
        ...fast,
        handler: (_g, ctx) => {
          counts.push(serverTransportCount(ctx));
          return Promise.reject(new Error("database down"));
        },
      }),
    );
    await createPublisher({ broker, schema: GreetingSchema, topic: "orders" }).publish(
      createContext(),
      { id: 7n },
    );
    await eventually("a dead letter", () => dead.length === 1);
    assert.deepEqual(counts, [1, 2, 3]);
    const letter = dead[0];
    assert.ok(letter);
    assert.equal(fromBinary(GreetingSchema, letter.body).id, 7n);
    assert.equal(letter.headers[deadLetterHeaders.topic], "orders");
    assert.equal(letter.headers[deadLetterHeaders.deliveries], "3");
    // recovery turned the bare error into 500 UNKNOWN: the chain's last word is what is kept.
    assert.equal(letter.headers[deadLetterHeaders.code], "500");
    assert.equal(letter.headers[deadLetterHeaders.reason], "UNKNOWN");
    await server.stop();
  });

  it("sends an undecodable message to the dead-letter topic at once, as 400 CODEC, and goes on", async () => {
    const broker = createMemoryBroker();
    const seen: { kind: string; operation: string; code: number; reason: string }[] = [];
    const got: bigint[] = [];
    const dead: Delivery[] = [];
    await broker.subscribe("dlq.orders", (d) => {
      dead.push(d);
      return Promise.resolve();
    });
    const server = await running(
      createBrokerServer({ broker, middleware: [observing(seen)] }).subscribe({
        topic: "orders",
        schema: GreetingSchema,
        ...fast,
        handler: (g) => {
          got.push(g.id);
          return Promise.resolve();
        },
      }),
    );
    const ctx = createContext();
    await broker.publish(ctx, "orders", new Uint8Array([0xff, 0xff, 0xff]));
    await broker.publish(ctx, "orders", new TextEncoder().encode("{"), {
      headers: { "content-type": "application/json" },
    });
    await broker.publish(ctx, "orders", new Uint8Array(), {
      headers: { "content-type": "text/xml" },
    });
    await createPublisher({ broker, schema: GreetingSchema, topic: "orders" }).publish(ctx, {
      id: 9n,
    });
    await eventually(
      "three dead letters and one greeting",
      () => dead.length === 3 && got.length === 1,
    );
    assert.deepEqual(got, [9n]);
    assert.deepEqual(
      seen.slice(0, 3).map((s) => `${s.code} ${s.reason}`),
      ["400 CODEC", "400 CODEC", "400 CODEC"],
    );
    for (const d of dead) {
      assert.equal(d.headers[deadLetterHeaders.reason], "CODEC");
      assert.equal(d.headers[deadLetterHeaders.deliveries], "1");
    }
    await server.stop();
  });

  it("dead-letters a message its validate rules reject", async () => {
    const broker = createMemoryBroker();
    const dead: Delivery[] = [];
    await broker.subscribe("dlq.hello", (d) => {
      dead.push(d);
      return Promise.resolve();
    });
    let handled = 0;
    const server = await running(
      createBrokerServer({ broker, middleware: [validate()] }).subscribe({
        topic: "hello",
        schema: HelloRequestSchema,
        handler: () => {
          handled++;
          return Promise.resolve();
        },
      }),
    );
    await createPublisher({ broker, schema: HelloRequestSchema, topic: "hello" }).publish(
      createContext(),
      { name: "" },
    );
    await eventually("a dead letter", () => dead.length === 1);
    assert.equal(handled, 0);
    assert.equal(dead[0]?.headers[deadLetterHeaders.reason], "VALIDATOR");
    await server.stop();
  });

  it("naks a handler that outlives its deadline (504), and its context is aborted", async () => {
    const broker = createMemoryBroker();
    const attempts: number[] = [];
    let abortedReason = "";
    const server = await running(
      createBrokerServer({ broker, timeoutMs: 20 }).subscribe({
        topic: "slow",
        schema: GreetingSchema,
        ...fast,
        handler: (_g, ctx) => {
          const n = serverTransportCount(ctx);
          attempts.push(n);
          if (n > 1) return Promise.resolve();
          // Never settles on its own: only the deadline ends it.
          return new Promise<void>((resolve) => {
            ctx.signal.addEventListener("abort", () => {
              abortedReason = (ctx.signal.reason as Error).name;
              setTimeout(resolve, 50);
            });
          });
        },
      }),
    );
    await createPublisher({ broker, schema: GreetingSchema, topic: "slow" }).publish(
      createContext(),
      { id: 1n },
    );
    await eventually("a second delivery", () => attempts.length === 2);
    assert.deepEqual(attempts, [1, 2]);
    assert.equal(abortedReason, "TimeoutError");
    await server.stop();
  });

  it("shares a queue group's messages, keeps max in flight, and de-duplicates by msgId", async () => {
    const broker = createMemoryBroker();
    const byMember = [0, 0];
    let inFlight = 0;
    let peak = 0;
    const member = (i: 0 | 1) => async () => {
      byMember[i] = (byMember[i] ?? 0) + 1;
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 2));
      inFlight--;
    };
    const subs = await Promise.all(
      ([0, 1] as const).map((i) =>
        broker.subscribe("work", member(i), { queue: "workers", maxInFlight: 2 }),
      ),
    );
    const ctx = createContext();
    for (let i = 0; i < 40; i++)
      await broker.publish(ctx, "work", new Uint8Array([i]), { msgId: `m${i}` });
    const again = await broker.publish(ctx, "work", new Uint8Array([0]), { msgId: "m0" });
    assert.equal(again.duplicate, true);
    await eventually("40 handled", () => (byMember[0] ?? 0) + (byMember[1] ?? 0) === 40);
    assert.ok(
      (byMember[0] ?? 0) > 5 && (byMember[1] ?? 0) > 5,
      `both members worked: ${byMember.join(",")}`,
    );
    assert.ok(peak <= 4, `peak ${peak} within 2 x 2`);
    await Promise.all(subs.map((s) => s.stop()));
  });

  it("stop waits for the message in flight and lets it finish", async () => {
    const broker = createMemoryBroker();
    let release: () => void = () => undefined;
    let started = false;
    let finished = false;
    const server = await running(
      createBrokerServer({ broker }).subscribe({
        topic: "t",
        schema: GreetingSchema,
        handler: async () => {
          started = true;
          await new Promise<void>((resolve) => (release = resolve));
          finished = true;
        },
      }),
    );
    await broker.publish(createContext(), "t", new Uint8Array());
    await eventually("the handler to start", () => started);
    const stopped = server.stop();
    let stopDone = false;
    void stopped.then(() => (stopDone = true));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(stopDone, false);
    release();
    await stopped;
    assert.equal(finished, true);
  });

  it("a server started again after a forced stop gives handlers a live context", async () => {
    const broker = createMemoryBroker();
    const aborted: boolean[] = [];
    let release: () => void = () => undefined;
    const server = createBrokerServer({ broker }).subscribe({
      topic: "restart",
      schema: GreetingSchema,
      handler: async (_g, ctx) => {
        aborted.push(ctx.signal.aborted);
        if (aborted.length === 1) await new Promise<void>((resolve) => (release = resolve));
      },
    });
    await server.start();
    await broker.publish(createContext(), "restart", new Uint8Array());
    await eventually("the first handler", () => aborted.length === 1);
    // A forced stop: the handler in flight is abandoned (its context cancelled).
    await server.stop(AbortSignal.abort());
    release();
    await server.start();
    await broker.publish(createContext(), "restart", new Uint8Array());
    await eventually("a handler after the restart", () => aborted.length >= 2);
    assert.equal(aborted.at(-1), false, "not born cancelled");
    await server.stop();
  });

  it("stop waits for a handler past its deadline that ignores its context", async () => {
    const broker = createMemoryBroker();
    let release: () => void = () => undefined;
    let started = 0;
    let overdue = false;
    let finished = false;
    const server = await running(
      createBrokerServer({ broker, timeoutMs: 20 }).subscribe({
        topic: "stubborn",
        schema: GreetingSchema,
        maxDeliver: 1,
        handler: async (_g, ctx) => {
          started++;
          ctx.signal.addEventListener("abort", () => (overdue = true));
          await new Promise<void>((resolve) => (release = resolve));
          finished = true;
        },
      }),
    );
    const dead = await broker.subscribe("dlq.stubborn", () => Promise.resolve());
    await broker.publish(createContext(), "stubborn", new Uint8Array());
    await eventually("the handler to start", () => started === 1);
    let stopDone = false;
    // The deadline passes (the message is settled as a 504) while the handler runs on.
    await eventually("the deadline", () => overdue);
    const stopping = server.stop().then(() => (stopDone = true));
    const again = server.stop();
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(stopDone, false, "stop waits for the overdue handler");
    release();
    await stopping;
    await again;
    assert.equal(finished, true);
    await dead.stop();
  });

  it("carries metadata from the publishing context to the handler's", async () => {
    const broker = createMemoryBroker();
    let tenant: string | undefined;
    const server = await running(
      createBrokerServer({ broker, middleware: [metadata.server()] }).subscribe({
        topic: "md",
        schema: GreetingSchema,
        handler: (_g, ctx) => {
          tenant = serverMetadata(ctx)?.get("x-md-global-tenant");
          return Promise.resolve();
        },
      }),
    );
    const ctx = createContext();
    appendClientMetadata(ctx, { "x-md-global-tenant": "acme" });
    await createPublisher({
      broker,
      schema: GreetingSchema,
      topic: "md",
      middleware: [metadata.client()],
    }).publish(ctx, { id: 1n });
    await eventually("the handler", () => tenant !== undefined);
    assert.equal(tenant, "acme");
    await server.stop();
  });
});

function serverTransportCount(ctx: Context): number {
  return brokerTransport(ctx)?.deliveryCount ?? 0;
}
