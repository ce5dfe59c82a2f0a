import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create, toJsonString } from "@bufbuild/protobuf";
import type { DescMessage, Message } from "@bufbuild/protobuf";
import { createContext } from "kratos-ts/context";
import { KratosError } from "kratos-ts/errors";
import type { Logger } from "kratos-ts/log";
import { logging } from "kratos-ts/middleware";
import {
  NodeHeader,
  setClientTransport,
  setRequestSchema,
  setServerTransport,
} from "kratos-ts/transport";
import { HelloRequestSchema } from "../../api/helloworld/v1/greeter_pb.js";
import { ListBooksResponseSchema } from "../fixtures/http/gen/bookstore/v1/bookstore_pb.js";
import { KindsSchema } from "../fixtures/json/gen/kinds/v1/kinds_pb.js";

type Line = { level: string; msg: string } & Record<string, unknown>;

/** A logger that keeps its lines; `infoEnabled` plays the configured level. */
function recording(infoEnabled = true): Logger & { lines: Line[] } {
  const lines: Line[] = [];
  const at =
    (level: string) =>
    (fields: object | string, msg?: string): void => {
      lines.push(
        typeof fields === "string"
          ? { level, msg: fields }
          : { ...(fields as Record<string, unknown>), level, msg: msg ?? "" },
      );
    };
  const logger: Logger & { lines: Line[] } = {
    lines,
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
    child: () => logger,
    isLevelEnabled: (level) => level !== "info" || infoEnabled,
  };
  return logger;
}

const transport = (kind: "http" | "grpc") => ({
  kind,
  endpoint: "grpc://127.0.0.1:1",
  operation: "/helloworld.v1.Greeter/SayHello",
  requestHeader: new NodeHeader({}),
  replyHeader: new NodeHeader({}),
});

function serverCtx(kind: "http" | "grpc" = "grpc") {
  const ctx = createContext();
  setServerTransport(ctx, transport(kind));
  setRequestSchema(ctx, HelloRequestSchema);
  return ctx;
}

describe("logging", () => {
  it("writes one info line per successful call with kind, component, operation, args, code, latency", async () => {
    const log = recording();
    const handler = logging.server({ logger: log })(() => Promise.resolve("ok"));
    assert.equal(
      await handler(serverCtx("http"), create(HelloRequestSchema, { name: "kratos" })),
      "ok",
    );
    assert.equal(log.lines.length, 1);
    const line = log.lines[0] as Line;
    assert.equal(line.level, "info");
    assert.equal(line["kind"], "server");
    assert.equal(line["component"], "http");
    assert.equal(line["operation"], "/helloworld.v1.Greeter/SayHello");
    assert.equal(line["args"], '{"name":"kratos"}');
    assert.equal(line["code"], 200);
    assert.equal(line["reason"], "");
    assert.equal(typeof line["latency"], "number");
    assert.ok((line["latency"] as number) >= 0 && (line["latency"] as number) < 10, "seconds");
  });

  it("writes an error line with code, reason and stack, and rethrows", async () => {
    const log = recording();
    const err = new KratosError(404, "GREETING_NOT_FOUND", "no greeting 7");
    const handler = logging.server({ logger: log })(() => Promise.reject(err));
    await assert.rejects(handler(serverCtx(), create(HelloRequestSchema)), (e) => e === err);
    const line = log.lines[0] as Line;
    assert.equal(line.level, "error");
    assert.equal(line["code"], 404);
    assert.equal(line["reason"], "GREETING_NOT_FOUND");
    assert.equal(line["err"], "no greeting 7");
    assert.match(String(line["stack"]), /no greeting 7/);
  });

  it("redacts secret-looking keys and cuts huge args", async () => {
    const log = recording();
    const handler = logging.client({ logger: log, maxArgsLength: 40 })(() => Promise.resolve());
    const ctx = createContext();
    setClientTransport(ctx, transport("http"));
    await handler(ctx, { user: "k", password: "hunter2", apiKey: "abc", nested: { token: "t" } });
    await handler(ctx, { blob: "x".repeat(5000) });
    const [first, second] = log.lines;
    assert.ok(first !== undefined && second !== undefined);
    assert.equal(first["kind"], "client");
    assert.doesNotMatch(String(first["args"]), /hunter2|abc|"t"/);
    assert.match(String(first["args"]), /\[REDACTED\]/);
    assert.ok(String(second["args"]).length < 80);
    assert.match(String(second["args"]), /\(5011 chars\)$/);
  });

  it("redacts secrets in request messages: by field name, map key, Struct key, at any depth", async () => {
    const log = recording();
    const logOf = async (schema: DescMessage, req: Message) => {
      const ctx = serverCtx();
      setRequestSchema(ctx, schema);
      await logging.server({ logger: log })(() => Promise.resolve())(ctx, req);
      return String(log.lines.at(-1)?.["args"]);
    };
    // No key to redact: the message's proto JSON as it is.
    const hello = create(HelloRequestSchema, { name: "kratos" });
    assert.equal(await logOf(HelloRequestSchema, hello), toJsonString(HelloRequestSchema, hello));
    const page = create(ListBooksResponseSchema, { nextPageToken: "secret-page" });
    assert.equal(await logOf(ListBooksResponseSchema, page), '{"nextPageToken":"[REDACTED]"}');
    const kinds = create(KindsSchema, {
      s: "plain",
      mapSs: { token: "t1" },
      st: { password: "t2" },
      child: { mapSs: { authorization: "t3" } },
    });
    const text = await logOf(KindsSchema, kinds);
    assert.doesNotMatch(text, /t1|t2|t3/);
    assert.equal(text.match(/\[REDACTED\]/g)?.length, 3);
    assert.match(text, /"s":"plain"/);
  });

  it("takes an args hook, and survives a failing one", async () => {
    const log = recording();
    await logging.server({ logger: log, args: () => "custom" })(() => Promise.resolve())(
      serverCtx(),
      {},
    );
    await logging.server({
      logger: log,
      args: () => {
        throw new Error("hook bug");
      },
    })(() => Promise.resolve())(serverCtx(), {});
    assert.deepEqual(
      log.lines.map((l) => l["args"]),
      ["custom", "[args unavailable]"],
    );
  });

  it("builds nothing for successful calls when info is off, still logs failures", async () => {
    const log = recording(false);
    await logging.server({ logger: log })(() => Promise.resolve())(serverCtx(), {});
    await assert.rejects(
      logging.server({ logger: log })(() => Promise.reject(new Error("boom")))(serverCtx(), {}),
    );
    assert.deepEqual(
      log.lines.map((l) => [l.level, l["code"]]),
      [["error", 500]],
    );
  });
});
