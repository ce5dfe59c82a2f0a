// The layout service end to end: the built dist/cmd/server/main.js, started as `npm start` runs
// it, on free ports with a temp config dir, reached over HTTP (fetch) and gRPC (@grpc/grpc-js).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { createServer } from "node:net";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fromBinary, toBinary, create } from "@bufbuild/protobuf";
import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { fromError } from "kratos-ts/errors";
import {
  CreateGreetingRequestSchema,
  GetGreetingRequestSchema,
  GreetingSchema,
  HelloReplySchema,
  HelloRequestSchema,
} from "../../api/helloworld/v1/greeter_pb.js";
import { tempDir } from "../helpers/repo.js";
import { spawnService, startService } from "../helpers/service.js";
import type { ServiceProcess } from "../helpers/service.js";

function config(overrides: { http?: string; grpc?: string; db?: string; level?: string } = {}) {
  return [
    "server:",
    "  http:",
    `    addr: ${overrides.http ?? "127.0.0.1:0"}`,
    "    timeout: 1s",
    "  grpc:",
    `    addr: ${overrides.grpc ?? "127.0.0.1:0"}`,
    "    timeout: 1s",
    "data:",
    "  database:",
    "    driver: sqlite",
    `    source: ${overrides.db ?? "./data/helloworld.db"}`,
    "log:",
    `  level: ${overrides.level ?? "info"}`,
    "",
  ].join("\n");
}

/** A temp project dir with configs/config.yaml; relative paths in the config resolve in it. */
function project(yaml = config()) {
  const dir = tempDir("kratos-ts-layout-");
  const confDir = join(dir.path, "configs");
  mkdirSync(confDir);
  writeFileSync(join(confDir, "config.yaml"), yaml);
  return { ...dir, confDir };
}

/** One unary call through @grpc/grpc-js, with protobuf-es messages; `method` is Service/Method. */
function grpcCall<I extends DescMessage, O extends DescMessage>(
  client: grpc.Client,
  method: string,
  input: I,
  output: O,
  req: MessageShape<I>,
): Promise<MessageShape<O>> {
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(
      `/helloworld.v1.${method}`,
      (m: MessageShape<I>) => Buffer.from(toBinary(input, m)),
      (b: Buffer) => fromBinary(output, b),
      req,
      (err, reply) => {
        if (err !== null) reject(err);
        else if (reply === undefined) reject(new Error("no reply"));
        else resolve(reply);
      },
    );
  });
}

const sayHello = (client: grpc.Client, name: string) =>
  grpcCall(
    client,
    "Greeter/SayHello",
    HelloRequestSchema,
    HelloReplySchema,
    create(HelloRequestSchema, { name }),
  );

const getGreeting = (client: grpc.Client, id: bigint) =>
  grpcCall(
    client,
    "Greeter/GetGreeting",
    GetGreetingRequestSchema,
    GreetingSchema,
    create(GetGreetingRequestSchema, { id }),
  );

const createGreeting = (client: grpc.Client, name: string) =>
  grpcCall(
    client,
    "Greeter/CreateGreeting",
    CreateGreetingRequestSchema,
    GreetingSchema,
    create(CreateGreetingRequestSchema, { name }),
  );

/** POST /v1/greetings with a JSON body. */
const postGreeting = (http: URL, body: unknown) =>
  fetch(new URL("/v1/greetings", http), {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });

async function stopService(service: ServiceProcess): Promise<number | null> {
  service.child.kill("SIGTERM");
  return service.exited;
}

describe("layout service", () => {
  const dir = project();
  let service: Awaited<ReturnType<typeof startService>>;
  let client: grpc.Client;

  before(async () => {
    service = await startService(["-conf", dir.confDir], dir.path);
    client = new grpc.Client(service.grpc.host, grpc.credentials.createInsecure());
  });

  after(async () => {
    client.close();
    if (service.child.exitCode === null) await stopService(service);
    dir.remove();
  });

  it("logs JSON lines with the service identity", () => {
    const started = service.lines.find((l) => l["msg"] === "helloworld started");
    assert.ok(started);
    assert.equal(started["level"], "info");
    assert.equal(started["service.name"], "helloworld");
    assert.equal(typeof started["service.id"], "string");
    assert.equal(typeof started["service.version"], "string");
  });

  it("answers GET /helloworld/kratos and stores nothing (a GET is safe)", async () => {
    for (let i = 0; i < 2; i++) {
      const res = await fetch(new URL("/helloworld/kratos", service.http));
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { message: "Hello kratos" });
    }
    // No test before this one stores a greeting, so id 1 would be the first row written.
    const stored = await fetch(new URL("/v1/greetings/1", service.http));
    assert.equal(stored.status, 404);
    assert.equal(((await stored.json()) as { reason: string }).reason, "GREETING_NOT_FOUND");
  });

  it("stores a greeting with POST /v1/greetings and reads it back with GET", async () => {
    const res = await postGreeting(service.http, { name: "kratos" });
    assert.equal(res.status, 200);
    const created = (await res.json()) as {
      id: string;
      name: string;
      message: string;
      createTime: string;
    };
    assert.equal(created.id, "1");
    assert.equal(created.name, "kratos");
    assert.equal(created.message, "Hello kratos");
    assert.ok(!Number.isNaN(Date.parse(created.createTime)));
    const stored = await fetch(new URL(`/v1/greetings/${created.id}`, service.http));
    assert.equal(stored.status, 200);
    assert.deepEqual(await stored.json(), created);
  });

  it("rejects POST /v1/greetings with an empty name: 400 and the Kratos error body", async () => {
    for (const body of [{ name: "" }, {}]) {
      const res = await postGreeting(service.http, body);
      assert.equal(res.status, 400);
      assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
      const error = (await res.json()) as Record<string, unknown>;
      assert.deepEqual(Object.keys(error).sort(), ["code", "message", "metadata", "reason"]);
      assert.equal(error["code"], 400);
      assert.equal(error["reason"], "VALIDATOR");
      assert.match((error["metadata"] as Record<string, string>)["name"] ?? "", /at least 1/);
    }
  });

  it("answers gRPC CreateGreeting, and the greeting is readable over HTTP", async () => {
    const greeting = await createGreeting(client, "grpc");
    assert.equal(greeting.message, "Hello grpc");
    assert.ok(greeting.id > 0n);
    assert.equal((await getGreeting(client, greeting.id)).name, "grpc");
    const overHttp = await fetch(new URL(`/v1/greetings/${greeting.id}`, service.http));
    assert.equal(((await overHttp.json()) as { name: string }).name, "grpc");
    assert.equal((await sayHello(client, "grpc")).message, "Hello grpc");
  });

  it("answers an unknown greeting with GREETING_NOT_FOUND on both transports", async () => {
    const res = await fetch(new URL("/v1/greetings/999999", service.http));
    assert.equal(res.status, 404);
    const body = (await res.json()) as Record<string, unknown>;
    assert.equal(body["code"], 404);
    assert.equal(body["reason"], "GREETING_NOT_FOUND");
    assert.equal(typeof body["message"], "string");
    await assert.rejects(getGreeting(client, 999999n), (err: grpc.ServiceError) => {
      assert.equal(err.code, grpc.status.NOT_FOUND);
      assert.equal(fromError(err).reason, "GREETING_NOT_FOUND");
      return true;
    });
  });

  it("rejects a 65-character name with VALIDATOR on both transports", async () => {
    const res = await fetch(new URL(`/helloworld/${"x".repeat(65)}`, service.http));
    assert.equal(res.status, 400);
    const body = (await res.json()) as { reason: string; metadata: Record<string, string> };
    assert.equal(body.reason, "VALIDATOR");
    assert.match(body.metadata["name"] ?? "", /64/);
    await assert.rejects(sayHello(client, "x".repeat(65)), (err: grpc.ServiceError) => {
      assert.equal(err.code, grpc.status.INVALID_ARGUMENT);
      assert.equal(fromError(err).reason, "VALIDATOR");
      return true;
    });
  });

  it("serves Prometheus metrics at /metrics that pass promtool's format check", async (t) => {
    await fetch(new URL("/helloworld/metrics", service.http));
    const res = await fetch(new URL("/metrics", service.http));
    assert.equal(res.status, 200);
    const text = await res.text();
    assert.match(
      text,
      /^server_requests_code_total\{.*operation="\/helloworld\.v1\.Greeter\/SayHello".*\} \d+/m,
    );
    assert.match(text, /^server_requests_seconds_bucket\{.*le="0\.005".*\} \d+/m);
    const check = spawnSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8" });
    if (check.error !== undefined) {
      // .ci/run installs Debian's prometheus package, which ships promtool.
      t.skip("promtool is not installed (apt-get install prometheus): format check skipped");
      return;
    }
    assert.equal(check.status, 0, `promtool check metrics: ${check.stdout}${check.stderr}`);
  });

  it("applies a changed log level without a restart (config hot reload)", async () => {
    // Written aside and renamed over the original, as editors and ConfigMaps do: a write in
    // place is a truncate then a write, and the service could read the empty file in between
    // if this process were descheduled for longer than its 100 ms debounce.
    const file = join(dir.confDir, "config.yaml");
    writeFileSync(`${file}.tmp`, config({ level: "debug" }));
    renameSync(`${file}.tmp`, file);
    const changed = await service.waitForLine((l) => l["msg"] === "config changed");
    assert.equal(changed["key"], "log.level");
    assert.equal(changed["value"], "debug");
    // Debug lines now appear: the use case logs each stored greeting at debug.
    await postGreeting(service.http, { name: "reload" });
    await service.waitForLine((l) => l["msg"] === "greeting stored" && l["level"] === "debug");
  });

  it("keeps the greetings in the database file across restarts", async () => {
    const stored = await createGreeting(client, "persist");
    assert.equal(await stopService(service), 0);
    client.close();
    service = await startService(["-conf", dir.confDir], dir.path);
    client = new grpc.Client(service.grpc.host, grpc.credentials.createInsecure());
    assert.equal((await getGreeting(client, stored.id)).name, "persist");
  });

  it("answers every accepted call when SIGTERM arrives during a burst, and exits 0", async () => {
    const calls: Promise<"ok" | "refused">[] = [];
    let answered = 0;
    let signalled!: () => void;
    const signalSent = new Promise<void>((resolve) => (signalled = resolve));
    // 32 callers in a loop over one HTTP/2 connection until the server stops accepting.
    const caller = async (n: number): Promise<void> => {
      for (let i = 0; ; i++) {
        const call = sayHello(client, `burst-${n}-${i}`).then(
          (reply) => {
            assert.equal(reply.message, `Hello burst-${n}-${i}`);
            if (++answered === 100) {
              service.child.kill("SIGTERM");
              signalled();
            }
            return "ok" as const;
          },
          (err: unknown) => {
            // Refused streams (GOAWAY) and refused connections were never accepted.
            const { code, message } = err as grpc.ServiceError;
            assert.equal(code, grpc.status.UNAVAILABLE, `call failed: ${message}`);
            return "refused" as const;
          },
        );
        calls.push(call);
        if ((await call) === "refused") return;
      }
    };
    const callers = Array.from({ length: 32 }, (_, n) => caller(n));
    await signalSent;
    await Promise.all(callers);
    const results = await Promise.all(calls);
    assert.ok(results.filter((r) => r === "ok").length >= 100);
    assert.equal(await service.exited, 0);
  });
});

describe("layout service, bad input", () => {
  /** Runs the service expecting a failure to start: exit code 1 and one line on stderr. */
  async function failsWith(args: string[], cwd: string, expected: RegExp[]): Promise<string> {
    const service = spawnService(args, cwd);
    const code = await service.exited;
    const stderr = service.stderr();
    assert.equal(code, 1, `exit code; stderr: ${stderr}`);
    assert.equal(stderr.trimEnd().split("\n").length, 1, `one line, got: ${stderr}`);
    assert.doesNotMatch(stderr, /\n\s+at /, "no stack trace");
    for (const pattern of expected) assert.match(stderr, pattern);
    return stderr;
  }

  it("names a missing config directory", async () => {
    const dir = tempDir();
    await failsWith(["-conf", "./nope"], dir.path, [/nope/]);
    dir.remove();
  });

  const badConfigs: [string, string, RegExp[]][] = [
    ["invalid YAML", "server:\n  http: [\n", [/config\.yaml/, /line/i]],
    [
      "a value of the wrong type",
      config().replace("addr: 127.0.0.1:0", "addr: [1, 2]"),
      [/config\.yaml/, /server\.http\.addr/],
    ],
    [
      "an unknown duration format",
      config().replace("timeout: 1s", "timeout: 1x"),
      [/config\.yaml/, /server\.http\.timeout/, /1x/],
    ],
    [
      "an unreadable database path",
      config({ db: "/proc/kratos/helloworld.db" }),
      [/data\.database\.source/, /\/proc\/kratos\/helloworld\.db/],
    ],
    ["an unknown log level", config({ level: "loud" }), [/log\.level/, /loud/]],
  ];
  for (const [name, yaml, expected] of badConfigs) {
    it(`names the file and key for ${name}`, async () => {
      const dir = project(yaml);
      await failsWith(["-conf", dir.confDir], dir.path, expected);
      dir.remove();
    });
  }

  it("names the address when a port is in use", async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const port = (blocker.address() as AddressInfo).port;
    const dir = project(config({ grpc: `127.0.0.1:${port}` }));
    await failsWith(["-conf", dir.confDir], dir.path, [
      new RegExp(`127\\.0\\.0\\.1:${port}`),
      /in use/,
    ]);
    await new Promise((resolve) => blocker.close(resolve));
    dir.remove();
  });

  it("rejects an unknown flag, and prints its version with -version", async () => {
    const dir = tempDir();
    await failsWith(["-config", "x"], dir.path, [/unknown flag "-config"/, /usage/]);
    const version = spawnService(["-version"], dir.path);
    assert.equal(await version.exited, 0);
    dir.remove();
  });
});

describe("layout service, CORS from its config", () => {
  const dir = project();
  after(() => {
    dir.remove();
  });

  it("answers preflights on both ports for server.*.cors.origins (set from env here)", async () => {
    const origin = "https://app.example";
    const service = await startService(["-conf", dir.confDir], dir.path, {
      HELLOWORLD_SERVER__HTTP__CORS__ORIGINS: origin,
      HELLOWORLD_SERVER__GRPC__CORS__ORIGINS: `${origin},http://localhost:*`,
    });
    try {
      const preflight = (url: URL, from: string) =>
        new Promise<{ status: number; allowOrigin: unknown }>((resolve, reject) => {
          const headers = { origin: from, "access-control-request-method": "POST" };
          request(url, { method: "OPTIONS", headers }, (res) => {
            res.resume();
            resolve({
              status: res.statusCode ?? 0,
              allowOrigin: res.headers["access-control-allow-origin"],
            });
          })
            .on("error", reject)
            .end();
        });
      const grpcUrl = new URL("/helloworld.v1.Greeter/SayHello", `http://${service.grpc.host}`);
      assert.deepEqual(await preflight(new URL("/v1/greetings", service.http), origin), {
        status: 204,
        allowOrigin: origin,
      });
      assert.deepEqual(await preflight(grpcUrl, "http://localhost:5173"), {
        status: 204,
        allowOrigin: "http://localhost:5173",
      });
      assert.deepEqual(await preflight(grpcUrl, "https://evil.example"), {
        status: 403,
        allowOrigin: undefined,
      });
    } finally {
      await stopService(service);
    }
  });
});
