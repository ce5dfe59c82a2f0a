// The helloworld service's layers wired as cmd/server wires them, on an in-memory database,
// without sockets.
import "reflect-metadata";
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { liveValue } from "kratos-ts/config";
import { createContext } from "kratos-ts/context";
import { KratosError } from "kratos-ts/errors";
import { createGovernanceStore } from "kratos-ts/governance";
import { discardLogger } from "kratos-ts/log";
import { compileAuth } from "kratos-ts/middleware";
import {
  CreateGreetingRequestSchema,
  GetGreetingRequestSchema,
  HelloRequestSchema,
} from "../../api/helloworld/v1/greeter_pb.js";
import { BootstrapSchema, Data_DatabaseSchema } from "../../internal/conf/conf_pb.js";
import { wire } from "../../cmd/server/wire.js";
import { GreeterService } from "../../internal/service/greeter.js";
import { openData } from "../../internal/data/data.js";
import { DataToken } from "../../internal/data/module.js";

const noTelemetry = { metricsHandler: undefined, shutdown: () => Promise.resolve() };
/** No auth, no shedding: what an empty config follows. */
const noLive = { auth: liveValue(compileAuth(undefined)), bbr: liveValue(false) };

function bootstrap(source = ":memory:") {
  return create(BootstrapSchema, {
    server: { http: { addr: "127.0.0.1:0" }, grpc: { addr: "127.0.0.1:0" } },
    data: { database: { driver: "sqlite", source } },
  });
}

function wireServices() {
  const wired = wire(bootstrap(), discardLogger, noTelemetry, createGovernanceStore(), noLive);
  const { db } = wired.container.get(DataToken);
  return {
    greeter: wired.container.get(GreeterService),
    rows: () => (db.prepare("SELECT count(*) AS n FROM greetings").get() as { n: number }).n,
    cleanup: () => wired.cleanup(),
  };
}

const isNotFound = (err: unknown) =>
  err instanceof KratosError && err.code === 404 && err.reason === "GREETING_NOT_FOUND";

describe("helloworld layers", () => {
  it("wires the HTTP and gRPC servers", async () => {
    const wired = wire(bootstrap(), discardLogger, noTelemetry, createGovernanceStore(), noLive);
    assert.equal(wired.servers.length, 2);
    await wired.cleanup();
  });

  it("SayHello greets and stores nothing", async () => {
    const ctx = createContext();
    const wired = wireServices();
    for (let i = 0; i < 2; i++) {
      const reply = await wired.greeter.sayHello(
        create(HelloRequestSchema, { name: "kratos" }),
        ctx,
      );
      assert.equal(reply.message, "Hello kratos");
    }
    assert.equal(wired.rows(), 0);
    await assert.rejects(
      wired.greeter.getGreeting(create(GetGreetingRequestSchema, { id: 1n }), ctx),
      isNotFound,
    );
    await wired.cleanup();
  });

  it("CreateGreeting stores a greeting with a new id and GetGreeting reads it back", async () => {
    const ctx = createContext();
    const wired = wireServices();
    const first = await wired.greeter.createGreeting(
      create(CreateGreetingRequestSchema, { name: "kratos" }),
      ctx,
    );
    assert.equal(first.id, 1n);
    assert.equal(first.name, "kratos");
    assert.equal(first.message, "Hello kratos");
    assert.ok(first.createTime !== undefined);
    const second = await wired.greeter.createGreeting(
      create(CreateGreetingRequestSchema, { name: "go" }),
      ctx,
    );
    assert.equal(second.id, 2n);
    const read = await wired.greeter.getGreeting(create(GetGreetingRequestSchema, { id: 1n }), ctx);
    assert.deepEqual(read, first);
    assert.equal(wired.rows(), 2);
    await wired.cleanup();
  });

  it("GetGreeting of an unknown id is the generated GREETING_NOT_FOUND error", async () => {
    const wired = wireServices();
    await assert.rejects(
      wired.greeter.getGreeting(create(GetGreetingRequestSchema, { id: 42n }), createContext()),
      isNotFound,
    );
    await wired.cleanup();
  });

  it("names the key when the database cannot be opened or the driver is unknown", () => {
    assert.throws(
      () => openData(bootstrap("/proc/no/such.db").data?.database, discardLogger),
      /^Error: data\.database\.source: cannot open "\/proc\/no\/such\.db"/,
    );
    assert.throws(
      () =>
        openData(
          create(Data_DatabaseSchema, { driver: "mysql", source: ":memory:" }),
          discardLogger,
        ),
      /data\.database\.driver: unsupported driver "mysql"/,
    );
  });
});
