// The CLI workflow end to end, as a user runs it: pack the kit, `kratos-ts new demo`, npm install,
// npm test inside the project, start the service and call it over HTTP and gRPC; then `proto add`,
// `proto client` and `proto server` give a second service that compiles and, registered on both
// servers, answers UNIMPLEMENTED. No git and no layout download: the layout ships in the package.
import assert from "node:assert/strict";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { HelloReplySchema, HelloRequestSchema } from "../../api/helloworld/v1/greeter_pb.js";
import { repoRoot, run, tempDir } from "../helpers/repo.js";
import type { RunResult } from "../helpers/repo.js";
import { startService, writeLayoutConfig } from "../helpers/service.js";
import type { ServiceProcess } from "../helpers/service.js";

const cli = join(repoRoot, "dist", "cmd", "kratos-ts", "main.js");

// The project's own `node --test` must run as a test run of its own, not as a child of this one
// (node:test marks its children with this variable and they then skip running files).
delete process.env.NODE_TEST_CONTEXT;

function ok(r: RunResult, what: string): RunResult {
  assert.equal(r.status, 0, `${what} failed:\n${r.stdout}\n${r.stderr}`);
  return r;
}

/** One unary gRPC call with @grpc/grpc-js on raw bytes. */
function grpcCall(address: string, path: string, body: Uint8Array): Promise<Buffer> {
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  return new Promise<Buffer>((resolve, reject) => {
    client.makeUnaryRequest(
      path,
      (b: Uint8Array) => Buffer.from(b),
      (b: Buffer) => b,
      body,
      (err, reply) => {
        client.close();
        if (err !== null) reject(err);
        else if (reply === undefined) reject(new Error("no reply"));
        else resolve(reply);
      },
    );
  });
}

async function stop(service: ServiceProcess): Promise<void> {
  if (service.child.exitCode !== null) return;
  service.child.kill("SIGTERM");
  await service.exited;
}

describe("kratos-ts new, end to end", { timeout: 600_000 }, () => {
  const dir = tempDir("kratos-ts-e2e-cli-");
  const project = join(dir.path, "demo");
  const running: ServiceProcess[] = [];
  /** Starts the project's built cmd/<name>; stopped after the suite at the latest. */
  const start = async (name: string, args: string[]) => {
    const main = join(project, "dist", "cmd", name, "main.js");
    const service = await startService(args, project, {}, { main, name });
    running.push(service);
    return service;
  };
  const kratos = (...args: string[]) =>
    ok(run(process.execPath, [cli, ...args], project), `kratos-ts ${args.join(" ")}`);

  before(() => {
    // The tarball a user would install (dist/ is already built by npm test).
    const packDir = join(dir.path, "pack");
    mkdirSync(packDir);
    ok(run("npm", ["pack", "--ignore-scripts", "--pack-destination", packDir]), "npm pack");
    const [tarball] = readdirSync(packDir);
    assert.ok(tarball !== undefined);
    ok(
      run(process.execPath, [cli, "new", "demo", "--kit", join(packDir, tarball)], dir.path),
      "kratos-ts new",
    );
    ok(
      run("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund"], project),
      "npm install",
    );
  });

  after(async () => {
    for (const service of running) await stop(service);
    dir.remove();
  });

  it("passes its own tests", () => {
    const r = ok(run("npm", ["test"], project), "npm test in the project");
    assert.match(r.stdout, /# fail 0|ℹ fail 0/);
  });

  it("runs its service with kratos-ts run, passing the arguments after --", () => {
    const r = kratos("run", "--", "-version");
    assert.match(r.stdout, /^demo 0\.1\.0$/m);
  });

  it("starts and answers GET /helloworld/kratos, gRPC SayHello and POST /v1/greetings", async () => {
    writeLayoutConfig(project);
    const service = await start("demo", ["-conf", "./configs"]);
    const res = await fetch(new URL("/helloworld/kratos", service.http));
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { message: string }).message, "Hello kratos");
    const reply = await grpcCall(
      service.grpc.host,
      "/helloworld.v1.Greeter/SayHello",
      toBinary(HelloRequestSchema, create(HelloRequestSchema, { name: "grpc" })),
    );
    assert.equal(fromBinary(HelloReplySchema, reply).message, "Hello grpc");
    // The data path (SQLite in WAL mode, its checkpoint worker) as the project builds it.
    const created = await fetch(new URL("/v1/greetings", service.http), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "demo" }),
    });
    assert.equal(created.status, 200);
    const { id } = (await created.json()) as { id: string };
    const stored = await fetch(new URL(`/v1/greetings/${id}`, service.http));
    assert.equal(((await stored.json()) as { message: string }).message, "Hello demo");
    await stop(service);
  });

  it("grows a second service with proto add, client and server that answers UNIMPLEMENTED", async () => {
    kratos("proto", "add", "api/shop/v1/book.proto");
    kratos("proto", "client", "api/shop/v1/book.proto");
    // The OpenAPI document still covers every API, not just the one generated.
    const openapi = readFileSync(join(project, "api", "openapi.yaml"), "utf8");
    assert.match(openapi, /\/helloworld\/\{name\}:/);
    assert.match(openapi, /\/shop\/v1\/books\/\{id\}:/);
    kratos("proto", "server", "api/shop/v1/book.proto", "-t", "internal/service");
    // Registered on both servers, as internal/server would register it.
    mkdirSync(join(project, "cmd", "check"));
    writeFileSync(
      join(project, "cmd", "check", "main.ts"),
      [
        'import "reflect-metadata";',
        'import { createGrpcServer } from "kratos-ts/transport/grpc";',
        'import { createHttpServer } from "kratos-ts/transport/http";',
        'import { registerBookHTTPServer } from "../../api/shop/v1/book_http.js";',
        'import { Book } from "../../api/shop/v1/book_pb.js";',
        'import { BookService } from "../../internal/service/book.js";',
        "const book = new BookService();",
        'const http = createHttpServer({ addr: "127.0.0.1:0" });',
        "registerBookHTTPServer(http, book);",
        'const grpc = createGrpcServer({ addr: "127.0.0.1:0" });',
        "grpc.register(Book, book);",
        "await http.start();",
        "await grpc.start();",
        "const endpoints = [http.endpoint().href, grpc.endpoint().href];",
        'console.log(JSON.stringify({ msg: "check started", endpoints }));',
        "",
      ].join("\n"),
    );
    ok(run("npm", ["run", "build"], project), "npm run build");
    const check = await start("check", []);
    const res = await fetch(new URL("/shop/v1/books/7", check.http));
    assert.equal(res.status, 501);
    assert.deepEqual(await res.json(), {
      code: 501,
      reason: "",
      message: "method GetBook not implemented",
      metadata: {},
    });
    await assert.rejects(grpcCall(check.grpc.host, "/shop.v1.Book/GetBook", new Uint8Array()), {
      code: grpc.status.UNIMPLEMENTED,
    });
    await stop(check);
  });
});
