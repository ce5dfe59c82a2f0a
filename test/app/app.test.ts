import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { request } from "node:http";
import type { IncomingMessage } from "node:http";
import { createInterface } from "node:readline";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { appInfo, createApp } from "kratos-ts/app";
import type { App, AppOptions } from "kratos-ts/app";
import type { Context } from "kratos-ts/context";
import type { Registrar, ServiceInstance } from "kratos-ts/registry";
import { createGrpcServer } from "kratos-ts/transport/grpc";
import { createHttpServer } from "kratos-ts/transport/http";
import type { Server } from "kratos-ts/transport";

/** A server that only records what the app asks of it (the app's ordering is pure logic). */
function recordingServer(name: string, events: string[], fail?: Error): Server {
  let started = false;
  return {
    start: () => {
      events.push(`start ${name}`);
      if (fail !== undefined) return Promise.reject(fail);
      started = true;
      return Promise.resolve();
    },
    stop: () => {
      events.push(started ? `stop ${name}` : `stop ${name} (not started)`);
      started = false;
      return Promise.resolve();
    },
    endpoint: () => new URL(`${name}://10.0.0.1:${name === "http" ? 8000 : 9000}`),
  };
}

function recordingRegistrar(events: string[]): Registrar & { instances: ServiceInstance[] } {
  const instances: ServiceInstance[] = [];
  return {
    instances,
    register: (_ctx: Context, instance: ServiceInstance) => {
      events.push(`register ${instance.id}`);
      instances.push(instance);
      return Promise.resolve();
    },
    deregister: (_ctx: Context, instance: ServiceInstance) => {
      events.push(`deregister ${instance.id}`);
      return Promise.resolve();
    },
  };
}

function hook(events: string[], name: string) {
  return () => {
    events.push(name);
  };
}

/** GETs a path; resolves with the status and body, rejects when the connection fails. */
function get(url: URL): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    request(url, (res: IncomingMessage) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => {
        resolve({ status: res.statusCode ?? 0, body });
      });
      res.on("error", reject);
    })
      .on("error", reject)
      .end();
  });
}

describe("app lifecycle", () => {
  it("runs hooks, servers and registration in order, and stops in reverse", async () => {
    const events: string[] = [];
    const registrar = recordingRegistrar(events);
    const app = createApp({
      id: "i-1",
      name: "helloworld",
      version: "v1",
      metadata: { zone: "a" },
      signals: [],
      servers: [recordingServer("http", events), recordingServer("grpc", events)],
      registrar,
      beforeStart: [hook(events, "before start")],
      afterStart: [
        hook(events, "after start"),
        () => {
          void app.stop();
        },
      ],
      beforeStop: [hook(events, "before stop")],
      afterStop: [hook(events, "after stop")],
    });
    await app.run();
    assert.deepEqual(events, [
      "before start",
      "start http",
      "start grpc",
      "register i-1",
      "after start",
      "before stop",
      "deregister i-1",
      "stop http",
      "stop grpc",
      "after stop",
    ]);
    assert.deepEqual(registrar.instances, [
      {
        id: "i-1",
        name: "helloworld",
        version: "v1",
        metadata: { zone: "a" },
        endpoints: ["http://10.0.0.1:8000", "grpc://10.0.0.1:9000"],
      },
    ]);
  });

  it("starts event subscribers after the other servers are up, and stops them first", async () => {
    const events: string[] = [];
    // The ports take a while to come up and to go down; the subscriber must wait for both.
    const slow = (name: string): Server => ({
      start: async () => {
        events.push(`start ${name}`);
        await new Promise((resolve) => setTimeout(resolve, 5));
        events.push(`${name} up`);
      },
      stop: async () => {
        events.push(`stop ${name}`);
        await new Promise((resolve) => setTimeout(resolve, 5));
      },
      endpoint: () => new URL(`${name}://10.0.0.1:1`),
    });
    const subscriber: Server = {
      kind: "broker",
      start: () => {
        events.push("start events");
        return Promise.resolve();
      },
      stop: async () => {
        events.push("stop events");
        await new Promise((resolve) => setTimeout(resolve, 5));
        events.push("events stopped");
      },
      endpoint: () => new URL("nats://10.0.0.1:4222"),
    };
    const app = createApp({
      name: "helloworld",
      signals: [],
      // Listed first on purpose: the order comes from the kind, not the list.
      servers: [subscriber, slow("http"), slow("grpc")],
      afterStart: [
        () => {
          void app.stop();
        },
      ],
    });
    await app.run();
    assert.deepEqual(events, [
      "start http",
      "start grpc",
      "http up",
      "grpc up",
      "start events",
      "stop events",
      "events stopped",
      "stop http",
      "stop grpc",
    ]);
    assert.deepEqual(app.endpoints, [
      "nats://10.0.0.1:4222",
      "http://10.0.0.1:1",
      "grpc://10.0.0.1:1",
    ]);
  });

  it("stops the servers that started when one fails, and rejects with the cause", async () => {
    const events: string[] = [];
    const cause = new Error("listen EADDRINUSE");
    const app = createApp({
      name: "helloworld",
      signals: [],
      servers: [recordingServer("http", events), recordingServer("grpc", events, cause)],
      afterStart: [hook(events, "after start")],
    });
    await assert.rejects(app.run(), (err) => err === cause);
    assert.deepEqual(events, ["start http", "start grpc", "stop http", "stop grpc (not started)"]);
  });

  it("a failing before-start hook starts nothing", async () => {
    const events: string[] = [];
    const app = createApp({
      name: "helloworld",
      signals: [],
      servers: [recordingServer("http", events)],
      beforeStart: [
        () => {
          throw new Error("no database");
        },
      ],
    });
    await assert.rejects(app.run(), /no database/);
    assert.deepEqual(events, []);
  });

  it("a failing after-start hook deregisters and stops, then rejects", async () => {
    const events: string[] = [];
    const app = createApp({
      id: "i-2",
      name: "helloworld",
      signals: [],
      servers: [recordingServer("http", events)],
      registrar: recordingRegistrar(events),
      afterStart: [
        () => {
          throw new Error("warm-up failed");
        },
      ],
    });
    await assert.rejects(app.run(), /warm-up failed/);
    assert.deepEqual(events, ["start http", "register i-2", "deregister i-2", "stop http"]);
  });

  it("stops on a signal it listens to", async () => {
    const events: string[] = [];
    const listenersBefore = process.listenerCount("SIGWINCH");
    const app = createApp({
      name: "helloworld",
      signals: ["SIGWINCH"],
      servers: [recordingServer("http", events)],
      afterStart: [() => void process.kill(process.pid, "SIGWINCH")],
    });
    await app.run();
    assert.deepEqual(events, ["start http", "stop http"]);
    assert.equal(process.listenerCount("SIGWINCH"), listenersBefore, "its listener is removed");
  });
});

describe("app with real servers", () => {
  it("advertises the real endpoints and puts the app info in request contexts", async () => {
    const http = createHttpServer({ addr: "127.0.0.1:0" });
    http.handle("GET", "/whoami", (_req, res, ctx) => {
      const info = appInfo(ctx);
      res.end(JSON.stringify({ id: info?.id, name: info?.name, version: info?.version }));
    });
    const app = createApp({
      id: "i-3",
      name: "helloworld",
      version: "v2",
      signals: [],
      servers: [http],
      afterStart: [
        async () => {
          const reply = await get(new URL("/whoami", http.endpoint()));
          assert.deepEqual(JSON.parse(reply.body), {
            id: "i-3",
            name: "helloworld",
            version: "v2",
          });
          void app.stop();
        },
      ],
    });
    await app.run();
    assert.deepEqual(app.endpoints, [`http://127.0.0.1:${http.endpoint().port}`]);
  });

  it("a port in use rejects run() with the cause and leaves nothing listening", async () => {
    const first = createHttpServer({ addr: "127.0.0.1:0" });
    await first.start();
    const other = createHttpServer({ addr: "127.0.0.1:0" });
    const clash = createHttpServer({ addr: `127.0.0.1:${first.endpoint().port}` });
    const app = createApp({ name: "helloworld", signals: [], servers: [other, clash] });
    try {
      await assert.rejects(app.run(), (err: NodeJS.ErrnoException) => {
        assert.equal(err.code, "EADDRINUSE");
        assert.equal((err.cause as NodeJS.ErrnoException | undefined)?.code, "EADDRINUSE");
        return true;
      });
      assert.equal(other.httpServer.listening, false);
    } finally {
      await first.stop();
    }
  });

  // An app starts several servers: the line must say which one failed, on which address.
  it("a port in use names the server that failed and its address", async () => {
    const first = createHttpServer({ addr: "127.0.0.1:0" });
    await first.start();
    try {
      const addr = `127.0.0.1:${first.endpoint().port}`;
      const clashes: [string, Server][] = [
        ["http server", createHttpServer({ addr })],
        ["grpc server", createGrpcServer({ addr })],
      ];
      for (const [name, server] of clashes) {
        const app = createApp({ name: "helloworld", signals: [], servers: [server] });
        await assert.rejects(app.run(), {
          message: `${name}: listen ${addr}: address already in use`,
        });
      }
      const bad = createGrpcServer({ addr: "127.0.0.1" });
      await assert.rejects(bad.start(), {
        message: 'grpc server: address "127.0.0.1" has no port (host:port)',
      });
    } finally {
      // Also when an assertion fails: a server left listening keeps the test file running.
      await first.stop();
    }
  });

  it("lets in-flight requests finish before the servers close", async () => {
    const http = createHttpServer({ addr: "127.0.0.1:0" });
    let entered!: () => void;
    const inHandler = new Promise<void>((resolve) => (entered = resolve));
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    http.handle("GET", "/slow", async (_req, res) => {
      entered();
      await released;
      res.end("done");
    });
    const { app, running } = await started({ name: "helloworld", signals: [], servers: [http] });
    const reply = get(new URL("/slow", http.endpoint()));
    await inHandler;
    const stopped = app.stop();
    release();
    assert.deepEqual(await reply, { status: 200, body: "done" });
    await stopped;
    await running;
  });

  it("gives the other servers their own stop timeout after a subscriber used all of its", async () => {
    const http = createHttpServer({ addr: "127.0.0.1:0" });
    let entered!: () => void;
    const inHandler = new Promise<void>((resolve) => (entered = resolve));
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    http.handle("GET", "/slow", async (_req, res) => {
      entered();
      await released;
      res.end("done");
    });
    // A subscriber whose in-flight message outlives the stop timeout: it stops once forced.
    const subscriber: Server = {
      kind: "broker",
      start: () => Promise.resolve(),
      stop: (signal) =>
        new Promise<void>((resolve) => {
          signal?.addEventListener("abort", () => {
            resolve();
          });
        }),
      endpoint: () => new URL("nats://10.0.0.1:4222"),
    };
    // The request in flight on the HTTP port finishes once the HTTP server is stopping.
    const port: Server = {
      start: (ctx) => http.start(ctx),
      stop: (signal) => {
        const stopping = http.stop(signal);
        setImmediate(release);
        return stopping;
      },
      endpoint: () => http.endpoint(),
    };
    const { app, running } = await started({
      name: "helloworld",
      signals: [],
      servers: [port, subscriber],
      stopTimeout: 200,
    });
    const reply = get(new URL("/slow", http.endpoint()));
    await inHandler;
    await app.stop();
    await running;
    // Not cut off by the subscriber's forced stop: the HTTP phase had its own grace period.
    assert.deepEqual(await reply, { status: 200, body: "done" });
  });

  it("closes connections that outlive the stop timeout, and the stop returns", async () => {
    const http = createHttpServer({ addr: "127.0.0.1:0" });
    let entered!: () => void;
    const inHandler = new Promise<void>((resolve) => (entered = resolve));
    http.handle("GET", "/stuck", () => {
      entered();
      return new Promise<void>(() => undefined);
    });
    const { app, running } = await started({
      name: "helloworld",
      signals: [],
      servers: [http],
      stopTimeout: 50,
    });
    const reply = get(new URL("/stuck", http.endpoint()));
    await inHandler;
    await app.stop();
    await running;
    await assert.rejects(reply, /socket hang up|ECONNRESET/);
  });
});

/** Runs an app and resolves once it has started (after its after-start hooks). */
async function started(options: AppOptions): Promise<{ app: App; running: Promise<void> }> {
  let ready!: () => void;
  const isReady = new Promise<void>((resolve) => (ready = resolve));
  const app = createApp({ ...options, afterStart: [...(options.afterStart ?? []), ready] });
  const running = app.run();
  await Promise.race([isReady, running]);
  return { app, running };
}

describe("app signals in a real process", () => {
  /** The stuck-app fixture with a signal repeat window, and a wait for its log lines. */
  function stuckApp(window: number) {
    const service = spawn(process.execPath, [
      fileURLToPath(new URL("../fixtures/app/stuck-app.js", import.meta.url)),
      String(window),
    ]);
    const lines = createInterface({ input: service.stdout });
    const exited = new Promise<number | null>((resolve) => service.once("exit", resolve));
    const waitFor = (msg: string) =>
      new Promise<Record<string, unknown>>((resolve) => {
        const onLine = (text: string) => {
          const line = JSON.parse(text) as Record<string, unknown>;
          if (line["msg"] !== msg) return;
          lines.off("line", onLine);
          resolve(line);
        };
        lines.on("line", onLine);
      });
    /** Waits for the start, sends one request that waits for stdin, and waits until it does. */
    const stuckRequest = async () => {
      const started = await waitFor("stuck started");
      const [endpoint] = started["endpoints"] as string[];
      const reply = get(new URL("/stuck", endpoint)).catch((err: unknown) => err);
      await waitFor("request entered");
      return { reply };
    };
    return { service, exited, waitFor, stuckRequest };
  }

  it("exits at once on a second SIGTERM while the first stop waits for a request", async () => {
    const { service, exited, waitFor, stuckRequest } = stuckApp(0);
    const { reply } = await stuckRequest();
    service.kill("SIGTERM");
    await waitFor("stuck: stopping");
    service.kill("SIGTERM");
    assert.equal(await exited, 1);
    assert.ok((await reply) instanceof Error, "the stuck request's connection is gone");
  });

  it("takes a signal repeated within the window as the same stop (npm start and Ctrl-C)", async () => {
    const { service, exited, waitFor, stuckRequest } = stuckApp(60_000);
    const { reply } = await stuckRequest();
    service.kill("SIGTERM");
    await waitFor("stuck: stopping");
    service.kill("SIGINT");
    await waitFor("stuck: already stopping");
    service.stdin.write("release\n");
    assert.equal(await exited, 0, "a graceful stop");
    assert.deepEqual(await reply, { status: 200, body: "released" });
  });
});
