// The layout service with `data.nats`: SayHello publishes helloworld.v1.GreetingCreated and the
// events server (internal/server/events.ts) counts it; the process stops cleanly. A bad address
// fails the start with one line naming the key.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { freePort } from "../helpers/etcd.js";
import { natsSkip, startNats } from "../helpers/nats.js";
import { tempDir } from "../helpers/repo.js";
import { spawnService, startService, writeLayoutConfig } from "../helpers/service.js";

describe("the layout's data.nats", { skip: natsSkip(), timeout: 60_000 }, () => {
  it("publishes a GreetingCreated per SayHello, and its events server counts them", async () => {
    const nats = await startNats();
    const dir = tempDir("kratos-ts-layout-nats-");
    try {
      writeLayoutConfig(dir.path, { nats: `127.0.0.1:${nats.port}` });
      const service = await startService(["-conf", "./configs"], dir.path);
      try {
        for (const name of ["ann", "bob"]) {
          const res = await fetch(new URL(`/helloworld/${name}`, service.http));
          assert.equal(res.status, 200);
        }
        const counted = await service.waitForLine(
          (l) => l["msg"] === "greeting counted" && l["greetings"] === 2,
        );
        assert.equal(counted["name"], "bob");
        const started = service.lines.find((l) => l["msg"] === "helloworld started");
        assert.ok((started?.["endpoints"] as string[]).includes(nats.url));
        service.child.kill("SIGTERM");
        // The subscriber and the broker are closed on stop: nothing keeps the process alive.
        assert.equal(await service.exited, 0);
      } finally {
        if (service.child.exitCode === null) service.child.kill("SIGKILL");
      }
    } finally {
      dir.remove();
      await nats.close();
    }
  });

  it("fails the start in one line naming data.nats.addr when nothing answers there", async () => {
    const port = await freePort();
    const dir = tempDir("kratos-ts-layout-nats-bad-");
    try {
      writeLayoutConfig(dir.path, { nats: `127.0.0.1:${port}` });
      const service = spawnService(["-conf", "./configs"], dir.path);
      assert.equal(await service.exited, 1);
      await service.closed;
      assert.match(
        service.stderr(),
        new RegExp(`^helloworld: .*data\\.nats\\.addr 127\\.0\\.0\\.1:${port}: .*\\n$`),
      );
    } finally {
      dir.remove();
    }
  });

  it("fails the start in one line naming data.nats.addr when the address is malformed", async () => {
    for (const addr of ["nats://127.0.0.1:99999", "nats://host:port", "nats://a b:4222"]) {
      const dir = tempDir("kratos-ts-layout-nats-malformed-");
      try {
        writeLayoutConfig(dir.path, { nats: addr });
        const service = spawnService(["-conf", "./configs"], dir.path);
        assert.equal(await service.exited, 1);
        await service.closed;
        assert.match(service.stderr(), /^helloworld: .*data\.nats\.addr: .*\n$/, addr);
        assert.doesNotMatch(service.stderr(), /Invalid URL/, addr);
      } finally {
        dir.remove();
      }
    }
  });
});
