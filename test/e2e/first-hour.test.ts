// The first hour of a newcomer, as the README tells it, with kratos-ts on no registry: from this
// clone (installed and built by npm test), `npm link` gives the CLI (into a temporary prefix),
// `kratos-ts new shop` makes a project that depends on a copy of the kit, the project is moved,
// installed, tested and started; `proto add|client|server` grow a second service that answers
// with no hand edit; SIGTERM to `npm start`, `npx kratos-ts run` and a plain
// `node_modules/.bin/kratos-ts run` stops the service gracefully and frees its ports. Commands run
// as from a user's shell: the system's PATH (its Node may be older than 24) and no npm variables.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { delimiter, join } from "node:path";
import { after, before, describe, it } from "node:test";
import * as grpc from "@grpc/grpc-js";
import { repoRoot, tempDir } from "../helpers/repo.js";
import type { RunResult } from "../helpers/repo.js";
import { spawnLogged, started } from "../helpers/service.js";
import type { ServiceProcess } from "../helpers/service.js";

/** The lint rules the layout's buf.yaml turns off for Kratos naming (`SayHello` -> `HelloReply`). */
const kratosNaming = [
  "RPC_REQUEST_STANDARD_NAME",
  "RPC_RESPONSE_STANDARD_NAME",
  "RPC_REQUEST_RESPONSE_UNIQUE",
  "SERVICE_SUFFIX",
]
  .map((rule) => `        - ${rule}\n`)
  .join("");

/** The stop timeout of the layout's app (createApp's default). */
const stopTimeoutMs = 10_000;

const dir = tempDir("kratos-ts-first-hour-");
const prefix = join(dir.path, "global");

// How npm reaches the registry on this machine, which a user's shell would have too.
const networkConfig = /^npm_config_(registry|cache|cafile|strict_ssl|(https_|no)?proxy)$/i;

/** A user's shell environment: no npm variables, PATH without any node_modules/.bin. */
function userEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    const fromNpmRun = /^npm_/i.test(key) && !networkConfig.test(key);
    if (!fromNpmRun && key !== "NODE_TEST_CONTEXT" && key !== "INIT_CWD") env[key] = value;
  }
  const path = (process.env.PATH ?? "").split(delimiter).filter((p) => !p.includes("node_modules"));
  // npm itself must stay reachable: the Node of the running test has one beside it.
  path.push(join(process.execPath, ".."));
  env.PATH = [join(prefix, "bin"), ...path].join(delimiter);
  // `npm link` installs into a prefix of the test's own, not the machine's global folder.
  env.npm_config_prefix = prefix;
  return { ...env, ...extra };
}

function sh(command: string, args: readonly string[], cwd: string): RunResult {
  const r = spawnSync(command, args, { cwd, encoding: "utf8", env: userEnv() });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function ok(r: RunResult, what: string): RunResult {
  assert.equal(r.status, 0, `${what} failed:\n${r.stdout}\n${r.stderr}`);
  return r;
}

/** Ports 0 from the env, so the walk runs beside anything (the service reads SHOP_ variables). */
const loopback = {
  SHOP_SERVER__HTTP__ADDR: "127.0.0.1:0",
  SHOP_SERVER__GRPC__ADDR: "127.0.0.1:0",
};

/**
 * Sends SIGTERM to what the user started and checks the graceful end: the service's last line,
 * exit 0 within the stop timeout, both ports free. npx itself ends by the signal it passed on
 * (npm re-raises it), so its code is null; the service behind it still has to stop cleanly.
 */
async function terminate(
  service: ServiceProcess & { http: URL; grpc: URL },
  launcher: "exits 0" | "ends by the signal" = "exits 0",
): Promise<void> {
  const sent = performance.now();
  service.child.kill("SIGTERM");
  const code = await service.exited;
  // Everything the command started has gone once the pipe they share is closed.
  await service.closed;
  const took = performance.now() - sent;
  assert.ok(
    service.lines.some((l) => l["msg"] === "shop stopped"),
    "the service stopped gracefully",
  );
  assert.equal(code, launcher === "exits 0" ? 0 : null, `exit code; stderr: ${service.stderr()}`);
  assert.ok(took < stopTimeoutMs, `stopped in ${took.toFixed(0)} ms`);
  for (const url of [service.http, service.grpc]) await assertFree(Number(url.port));
}

/** Listens on the port and closes again: throws EADDRINUSE when a process still holds it. */
function assertFree(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      server.close(() => {
        resolve();
      });
    });
  });
}

function curl(url: URL): { status: number; body: string } {
  const r = ok(sh("curl", ["-s", "-w", "\n%{http_code}", url.href], dir.path), `curl ${url.href}`);
  const at = r.stdout.lastIndexOf("\n");
  return { status: Number(r.stdout.slice(at + 1)), body: r.stdout.slice(0, at) };
}

/** One unary gRPC call with @grpc/grpc-js on raw bytes; resolves with the status code. */
function grpcStatus(address: string, path: string): Promise<number> {
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  return new Promise<number>((resolve) => {
    client.makeUnaryRequest(
      path,
      (b: Uint8Array) => Buffer.from(b),
      (b: Buffer) => b,
      new Uint8Array(),
      (err) => {
        client.close();
        resolve(err === null ? grpc.status.OK : err.code);
      },
    );
  });
}

describe(
  "the first hour, from a clone with no kratos-ts on the registry",
  { timeout: 900_000 },
  () => {
    const moved = join(dir.path, "moved");
    const project = join(moved, "shop");
    const running: ServiceProcess[] = [];
    const start = async (command: string, args: string[], extra: Record<string, string> = {}) => {
      const service = spawnLogged(command, args, project, userEnv({ ...loopback, ...extra }));
      running.push(service);
      return started(service, "shop");
    };

    before(() => {
      mkdirSync(moved);
    });

    after(() => {
      for (const service of running)
        if (service.child.exitCode === null) service.child.kill("SIGKILL");
      dir.remove();
    });

    it("gets the CLI with npm link and makes a project that depends on a copy of the kit", () => {
      ok(sh("npm", ["link"], repoRoot), "npm link");
      const made = ok(sh("kratos-ts", ["new", "shop"], dir.path), "kratos-ts new shop");
      assert.match(made.stdout, /not from the npm registry here: .*vendor\/kratos-ts-[\d.]+\.tgz/);
      const manifest = JSON.parse(readFileSync(join(dir.path, "shop", "package.json"), "utf8")) as {
        dependencies: Record<string, string>;
      };
      assert.match(
        manifest.dependencies["kratos-ts"] ?? "",
        /^file:vendor\/kratos-ts-[\d.]+\.tgz$/,
      );
      // A project folder is moved, copied, checked out elsewhere: the dependency goes with it.
      renameSync(join(dir.path, "shop"), project);
    });

    it("installs without the registry having kratos-ts, and without engine warnings", () => {
      const r = ok(
        sh("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund"], project),
        "npm install",
      );
      assert.doesNotMatch(r.stdout + r.stderr, /EBADENGINE/);
      const lock = JSON.parse(readFileSync(join(project, "package-lock.json"), "utf8")) as {
        packages: Record<string, { resolved?: string }>;
      };
      assert.match(lock.packages["node_modules/kratos-ts"]?.resolved ?? "", /^file:vendor\//);
    });

    it("passes its own npm test: typecheck, lint, format and tests", () => {
      const r = ok(sh("npm", ["test"], project), "npm test");
      assert.match(r.stdout, /ℹ fail 0/);
    });

    it("starts with npm start, answers curl and buf curl, and stops on SIGTERM", async () => {
      const service = await start("npm", ["start"]);
      assert.deepEqual(curl(new URL("/helloworld/kratos", service.http)), {
        status: 200,
        body: '{"message":"Hello kratos"}',
      });
      const url = new URL("/helloworld.v1.Greeter/SayHello", `http://${service.grpc.host}`);
      const r = ok(
        sh(
          "npx",
          [
            "buf",
            "curl",
            "--protocol",
            "grpc",
            "--http2-prior-knowledge",
            "-d",
            '{"name":"kratos"}',
            String(url),
          ],
          project,
        ),
        "npx buf curl",
      );
      assert.deepEqual(JSON.parse(r.stdout), { message: "Hello kratos" });
      await terminate(service);
    });

    it("grows a second service with proto add, client and server, served with no hand edit", async () => {
      const kratos = (...args: string[]) =>
        ok(sh("npx", ["kratos-ts", ...args], project), args.join(" "));
      kratos("proto", "add", "api/shop/v1/book.proto");
      kratos("proto", "client", "api/shop/v1/book.proto");
      kratos("proto", "server", "api/shop/v1/book.proto", "-t", "internal/service");
      // A module of its own, declared in buf.yaml with the layout's Kratos naming: proto commands
      // take their roots from there.
      const bufYaml = join(project, "buf.yaml");
      const modules = readFileSync(bufYaml, "utf8").replace(
        "modules:\n",
        `modules:\n  - path: proto\n    lint:\n      except:\n${kratosNaming}`,
      );
      writeFileSync(bufYaml, modules);
      kratos("proto", "add", "proto/echo/v1/echo.proto");
      kratos("proto", "client", "proto/echo/v1/echo.proto");
      kratos("proto", "server", "proto/echo/v1/echo.proto", "-t", "internal/service");
      // The generated tests pass and the generated code keeps the project's lint.
      const r = ok(sh("npm", ["test"], project), "npm test after proto server");
      assert.match(r.stdout, /▶ shop\.v1\.Book/);
      assert.match(r.stdout, /ℹ fail 0/);

      const service = await start("npm", ["start"]);
      for (const path of ["/shop/v1/books/7", "/echo/v1/echos/7"]) {
        const reply = curl(new URL(path, service.http));
        assert.equal(reply.status, 501, path);
        const body = JSON.parse(reply.body) as Record<string, unknown>;
        assert.equal(body["code"], 501);
        assert.match(String(body["message"]), /not implemented/);
      }
      assert.equal(
        await grpcStatus(service.grpc.host, "/shop.v1.Book/GetBook"),
        grpc.status.UNIMPLEMENTED,
      );
      assert.equal(
        await grpcStatus(service.grpc.host, "/echo.v1.Echo/GetEcho"),
        grpc.status.UNIMPLEMENTED,
      );
      await terminate(service);
    });

    it("runs with npx kratos-ts run and stops on SIGTERM to npx", async () => {
      await terminate(await start("npx", ["kratos-ts", "run"]), "ends by the signal");
    });

    it("runs node_modules/.bin/kratos-ts run on the project's Node, whatever Node is on PATH", async () => {
      const service = await start(join(project, "node_modules", ".bin", "kratos-ts"), ["run"]);
      await terminate(service);
    });

    it("keeps the local kit on upgrade", () => {
      const r = ok(sh("npx", ["kratos-ts", "upgrade", "--dry-run"], project), "upgrade --dry-run");
      assert.match(
        r.stdout,
        /^kratos-ts stays file:vendor\/kratos-ts-[\d.]+\.tgz \(a local kit\)/m,
      );
      assert.doesNotMatch(r.stdout, /kratos-ts@/);
    });
  },
);
