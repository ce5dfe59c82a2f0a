// The layout's layers wired as cmd/server wires them, on an in-memory database, without sockets.
import "reflect-metadata";
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { createContext } from "kratos-ts/context";
import { KratosError } from "kratos-ts/errors";
import { discardLogger } from "kratos-ts/log";
import {
  GetGreetingRequestSchema,
  HelloRequestSchema,
} from "../../api/helloworld/v1/greeter_pb.js";
import { BootstrapSchema, Data_DatabaseSchema } from "../../internal/conf/conf_pb.js";
import { wire } from "../../cmd/server/wire.js";
import { GreeterService } from "../../internal/service/greeter.js";
import { openData } from "../../internal/data/data.js";

const noTelemetry = { metricsHandler: undefined, shutdown: () => Promise.resolve() };

function bootstrap(source = ":memory:") {
  return create(BootstrapSchema, {
    server: { http: { addr: "127.0.0.1:0" }, grpc: { addr: "127.0.0.1:0" } },
    data: { database: { driver: "sqlite", source } },
  });
}

function wireGreeter() {
  const wired = wire(bootstrap(), discardLogger, noTelemetry);
  return { greeter: wired.container.get(GreeterService), cleanup: () => wired.cleanup() };
}

describe("layout layers", () => {
  it("wires the servers and a greeter that stores and reads greetings", async () => {
    const wired = wire(bootstrap(), discardLogger, noTelemetry);
    assert.equal(wired.servers.length, 2);
    await wired.cleanup();
  });

  it("SayHello stores the greeting and GetGreeting reads it back", async () => {
    const ctx = createContext();
    const wired = wireGreeter();
    const reply = await wired.greeter.sayHello(create(HelloRequestSchema, { name: "kratos" }), ctx);
    assert.equal(reply.message, "Hello kratos");
    assert.equal(reply.id, 1n);
    const second = await wired.greeter.sayHello(create(HelloRequestSchema, { name: "go" }), ctx);
    assert.equal(second.id, 2n);
    const greeting = await wired.greeter.getGreeting(
      create(GetGreetingRequestSchema, { id: 1n }),
      ctx,
    );
    assert.equal(greeting.name, "kratos");
    assert.equal(greeting.message, "Hello kratos");
    assert.ok(greeting.createTime !== undefined);
    await wired.cleanup();
  });

  it("GetGreeting of an unknown id is the generated GREETING_NOT_FOUND error", async () => {
    const wired = wireGreeter();
    await assert.rejects(
      wired.greeter.getGreeting(create(GetGreetingRequestSchema, { id: 42n }), createContext()),
      (err) =>
        err instanceof KratosError && err.code === 404 && err.reason === "GREETING_NOT_FOUND",
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
