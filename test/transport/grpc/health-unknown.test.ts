// grpc.health.v1.Health/Check for a service the server does not know answers NOT_FOUND as
// grpc-go's health server does: a bare status, with no google.rpc.Status details (no
// grpc-status-details-bin), where Kratos errors always carry an ErrorInfo.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import * as grpc from "@grpc/grpc-js";
import { service as healthDefinition } from "grpc-health-check";
import { KratosError } from "kratos-ts/errors";
import { createGrpcServer } from "kratos-ts/transport/grpc";
import type { GrpcServer } from "kratos-ts/transport/grpc";
import { Health } from "../../../src/gen/grpc/health/v1/health_pb.js";
import { EchoService } from "../../fixtures/http/gen/echo/v1/echo_pb.js";

type CheckCallback = (err: grpc.ServiceError | null, reply?: { status: string }) => void;
type HealthClient = grpc.Client & { check(req: { service: string }, cb: CheckCallback): void };

const HealthClientCtor = grpc.makeGenericClientConstructor(
  healthDefinition,
  "Health",
) as unknown as new (target: string, creds: grpc.ChannelCredentials) => HealthClient;

/** One Check call; resolves with the status or the error. */
function check(
  client: HealthClient,
  service: string,
): Promise<{ status?: string; error?: grpc.ServiceError }> {
  return new Promise((resolve) => {
    client.check({ service }, (err, reply) => {
      if (err === null) resolve({ status: reply?.status ?? "" });
      else resolve({ error: err });
    });
  });
}

describe("health check of an unknown service", () => {
  let server: GrpcServer;
  let client: HealthClient;

  before(async () => {
    server = createGrpcServer({ addr: "127.0.0.1:0" });
    server.register(EchoService, {
      say(req) {
        if (req.sentence === "fail") {
          return Promise.reject(new KratosError(404, "", "nothing here"));
        }
        return Promise.resolve({ sentence: req.sentence });
      },
    });
    await server.start();
    client = new HealthClientCtor(server.endpoint().host, grpc.credentials.createInsecure());
  });

  after(async () => {
    client.close();
    await server.stop();
  });

  it("answers a known service SERVING", async () => {
    assert.deepEqual(await check(client, "echo.v1.EchoService"), { status: "SERVING" });
    assert.deepEqual(await check(client, ""), { status: "SERVING" });
  });

  it("answers NOT_FOUND with no grpc-status-details-bin (gRPC)", async () => {
    const { error } = await check(client, "nope.v1.Nope");
    assert.ok(error);
    assert.equal(error.code, grpc.status.NOT_FOUND);
    assert.match(error.details, /unknown service/);
    assert.deepEqual(error.metadata.get("grpc-status-details-bin"), []);
  });

  for (const [name, transport] of [
    ["Connect", createConnectTransport],
    ["gRPC-Web", createGrpcWebTransport],
  ] as const) {
    it(`answers NOT_FOUND with no details (${name})`, async () => {
      const health = createClient(
        Health,
        transport({ baseUrl: `http://${server.endpoint().host}`, httpVersion: "1.1" }),
      );
      const err = await health.check({ service: "nope.v1.Nope" }).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(err instanceof ConnectError, String(err));
      assert.equal(err.code, Code.NotFound);
      assert.deepEqual(err.details, []);
    });
  }

  it("leaves other errors with an empty reason their ErrorInfo, as Kratos does", async () => {
    const echo = createClient(
      EchoService,
      createConnectTransport({ baseUrl: `http://${server.endpoint().host}`, httpVersion: "1.1" }),
    );
    const err = await echo.say({ sentence: "fail" }).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(err instanceof ConnectError, String(err));
    assert.equal(err.code, Code.NotFound);
    assert.equal(err.details.length, 1);
  });
});
