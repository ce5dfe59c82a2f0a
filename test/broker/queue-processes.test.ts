// The Done-when line of issue 24 for queue groups: three subscriber processes in one queue group
// share the work, and the messages a SIGKILLed one held unacknowledged are redelivered to the
// other two.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createPublisher } from "kratos-ts/broker";
import type { Broker } from "kratos-ts/broker";
import { createNatsBroker } from "kratos-ts/broker/nats";
import { createContext } from "kratos-ts/context";
import { GreetingSchema } from "../../api/helloworld/v1/greeter_pb.js";
import { eventually } from "../helpers/etcd.js";
import { natsSkip, startNats } from "../helpers/nats.js";
import type { NatsServer } from "../helpers/nats.js";
import { repoRoot } from "../helpers/repo.js";
import { spawnLogged } from "../helpers/service.js";
import type { LogLine, ServiceProcess } from "../helpers/service.js";

const fixture = join(repoRoot, "dist", "test", "broker", "fixtures", "queue-member.js");
const total = 300;

describe("a queue group of three processes", { skip: natsSkip(), timeout: 90_000 }, () => {
  let nats: NatsServer;
  let broker: Broker;
  const members: ServiceProcess[] = [];

  before(async () => {
    nats = await startNats();
    broker = createNatsBroker({ servers: nats.url });
  });
  after(async () => {
    for (const m of members) {
      if (m.child.exitCode === null && m.child.signalCode === null) m.child.kill("SIGTERM");
      await m.exited;
    }
    await broker.close();
    await nats.close();
  });

  it("shares the work, and a SIGKILLed member's unacked messages go to the others", async (t) => {
    for (const name of ["a", "b", "c"]) {
      members.push(
        spawnLogged(process.execPath, [fixture], repoRoot, {
          ...process.env,
          NATS_URL: nats.url,
          MEMBER: name,
          // The victim (a) is slow: its four slots are always full, so it dies holding messages.
          HOLD_MS: name === "a" ? "100" : "20",
        }),
      );
    }
    await Promise.all(members.map((m) => m.waitForLine((l) => l["msg"] === "ready")));
    const [victim, ...survivors] = members;
    assert.ok(victim);
    const done = (lines: LogLine[]) => lines.filter((l) => l["msg"] === "done");
    // Kill the victim mid-work, once it has finished a few and holds others: watched from
    // before the first publish, so the kill follows its 10th line at once.
    let victimDone = 0;
    const busy = victim.waitForLine((l) => l["msg"] === "done" && ++victimDone >= 10);
    const publisher = createPublisher({ broker, schema: GreetingSchema, topic: "work.items" });
    const ctx = createContext();
    const publishing = (async () => {
      for (let i = 0; i < total; i++) await publisher.publish(ctx, { id: BigInt(i) });
    })();
    await busy;
    victim.child.kill("SIGKILL");
    await publishing;
    // Every line it wrote, read: its stdout has closed.
    await victim.closed;
    const started = new Set(victim.lines.filter((l) => l["msg"] === "start").map((l) => l["id"]));
    const finished = new Set(done(victim.lines).map((l) => l["id"]));
    const held = [...started].filter((id) => !finished.has(id));
    assert.ok(held.length > 0, "the victim held messages when it died");

    const handledBySurvivors = () =>
      new Set(survivors.flatMap((m) => done(m.lines).map((l) => l["id"])));
    await eventually(
      "every message handled",
      () => {
        const all = handledBySurvivors();
        for (const id of finished) all.add(id);
        return all.size === total;
      },
      60_000,
    );
    for (const id of held) {
      const redelivered = survivors
        .flatMap((m) => done(m.lines))
        .filter((l) => l["id"] === id && Number(l["count"]) >= 2);
      assert.ok(redelivered.length > 0, `message ${String(id)} held by the victim was redelivered`);
    }
    const shares = members.map((m) => done(m.lines).length);
    t.diagnostic(
      `done per member (a killed): ${shares.join(", ")}; held by a at the kill: ${held.length}`,
    );
    for (const share of shares) assert.ok(share > 0, `every member worked: ${shares.join(", ")}`);
  });
});
