// `auth` changed live in a running layout service: the file's secret, public operations and
// rules apply to new calls within a second; a bad change is refused with one warning naming the
// file and key, and the last good settings stay; a bad section fails the start in one line. The
// same through the etcd config source, with `server.bbr.enabled`.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { SignJWT } from "jose";
import type { JWTPayload } from "jose";
import { etcdSkip } from "../helpers/etcd.js";
import { withEtcdSourcedLayout } from "../helpers/etcd-layout.js";
import { tempDir } from "../helpers/repo.js";
import { spawnService, startService, writeLayoutConfig } from "../helpers/service.js";
import type { LogLine, ServiceProcess } from "../helpers/service.js";

const first = "the-first-secret-of-at-least-32-bytes!";
const second = "the-second-secret-of-at-least-32-bytes";

function token(key: string, claims: JWTPayload = { sub: "alice" }): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: "HS256" })
    .setExpirationTime("1m")
    .sign(new TextEncoder().encode(key));
}

function authLines(secret: string, more: string[] = []): string[] {
  return ["auth:", `  jwt: { secret: ${secret} }`, ...more];
}

async function status(service: { http: URL }, bearer?: string): Promise<number> {
  const res = await fetch(new URL("/helloworld/kratos", service.http), {
    headers: bearer === undefined ? {} : { authorization: `Bearer ${bearer}` },
  });
  await res.body?.cancel();
  return res.status;
}

/** Writes the config, then waits for the next line of the auth module; returns it and the ms. */
async function change(service: ServiceProcess, dir: string, lines: string[], level: string) {
  const seen = service.lines.length;
  const start = performance.now();
  writeLayoutConfig(dir, { extra: lines });
  const line: LogLine = await service.waitForLine(
    (l) => service.lines.indexOf(l) >= seen && l["module"] === "auth" && l["level"] === level,
  );
  return { line, ms: performance.now() - start };
}

describe("auth changed live in the layout service", { timeout: 60_000 }, () => {
  it("follows its config file", async () => {
    const dir = tempDir("kratos-ts-auth-live-");
    let service: (ServiceProcess & { http: URL }) | undefined;
    try {
      writeLayoutConfig(dir.path, { extra: authLines(first) });
      service = await startService(["-conf", "./configs"], dir.path);
      assert.equal(await status(service), 401);
      assert.equal(await status(service, await token(first)), 200);
      // /metrics is checked too, outside the chain; gRPC health stays public by default.
      const metrics = new URL("/metrics", service.http);
      assert.equal((await fetch(metrics)).status, 401);
      const scraped = await fetch(metrics, {
        headers: { authorization: `Bearer ${await token(first)}` },
      });
      assert.equal(scraped.status, 200);
      assert.match(await scraped.text(), /server_requests_code_total/);

      // A new secret: the next calls need tokens it signed.
      const on = await change(service, dir.path, authLines(second), "info");
      assert.ok(on.ms < 1000, `applied after ${on.ms.toFixed(0)} ms`);
      assert.equal(on.line["key"], "auth");
      assert.equal(await status(service, await token(first)), 401);
      assert.equal(await status(service, await token(second)), 200);

      // A rule: SayHello needs the scope `hello`; the 403 is logged by the layout's chain.
      const rule = [
        "  rules:",
        "    - { operations: [/helloworld.v1.Greeter/*], scopes: [hello] }",
      ];
      await change(service, dir.path, authLines(second, rule), "info");
      assert.equal(await status(service, await token(second)), 403);
      assert.equal(await status(service, await token(second, { scope: "hello" })), 200);
      const logged = await service.waitForLine(
        (l) => l["kind"] === "server" && l["code"] === 403 && l["reason"] === "FORBIDDEN",
      );
      assert.equal(logged["operation"], "/helloworld.v1.Greeter/SayHello");

      // A bad change: one warning naming the file and key; the last good settings stay.
      const bad = await change(
        service,
        dir.path,
        ["auth:", `  jwt: { secret: ${second}, algoritms: [HS256] }`],
        "warn",
      );
      assert.equal(
        bad.line["msg"],
        "configs/config.yaml: auth.jwt.algoritms: unknown key (known: secret, jwks_url, jwks_timeout, algorithms, issuer, audience); keeping the last good settings",
      );
      assert.equal(await status(service, await token(second)), 403);
      assert.equal(await status(service, await token(second, { scope: "hello" })), 200);

      // /metrics made public.
      await change(service, dir.path, authLines(second, ["  public: [/metrics]"]), "info");
      assert.equal((await fetch(metrics)).status, 200);

      // Removed: no token needed.
      await change(service, dir.path, [], "info");
      assert.equal(await status(service), 200);

      service.child.kill("SIGTERM");
      assert.equal(await service.exited, 0);
    } finally {
      if (service !== undefined && service.child.exitCode === null) service.child.kill("SIGKILL");
      dir.remove();
    }
  });

  it("refuses to start on a bad auth section, in one line naming the file and key", async () => {
    const dir = tempDir("kratos-ts-auth-bad-");
    try {
      writeLayoutConfig(dir.path, { extra: ["auth:", "  jwt: { secret: short }"] });
      const service = spawnService(["-conf", "./configs"], dir.path);
      assert.equal(await service.exited, 1);
      await service.closed;
      assert.equal(
        service.stderr(),
        "helloworld: configs/config.yaml: auth.jwt.secret: too short for HS256: 5 bytes, at least 32\n",
      );
    } finally {
      dir.remove();
    }
  });
});

describe("auth and BBR changed live through etcd", { skip: etcdSkip(), timeout: 60_000 }, () => {
  it("follows the etcd config source", async () => {
    await withEtcdSourcedLayout("auth-etcd", async ({ service: live, write }) => {
      assert.equal(await status(live), 200);
      /** Writes `lines` under the key; waits for the next line of `module` at `level`. */
      const put = async (lines: string[], module: string, level: string) => {
        const seen = live.lines.length;
        const start = performance.now();
        await write(lines);
        const line = await live.waitForLine(
          (l) => live.lines.indexOf(l) >= seen && l["module"] === module && l["level"] === level,
        );
        return { line, ms: performance.now() - start };
      };

      const on = await put(authLines(first), "auth", "info");
      assert.ok(on.ms < 1000, `applied after ${on.ms.toFixed(0)} ms`);
      assert.equal(await status(live), 401);
      assert.equal(await status(live, await token(first)), 200);

      // A bad change names the etcd key; the last good settings stay.
      const bad = await put(["auth:", "  jwt: { secret: short }"], "auth", "warn");
      assert.equal(
        bad.line["msg"],
        "etcd:/configs/helloworld.yaml: auth.jwt.secret: too short for HS256: 5 bytes, at least 32; keeping the last good settings",
      );
      assert.equal(await status(live), 401);

      // BBR on, then a bad value refused, both through the same source.
      const bbr = await put(
        [...authLines(first), "server:", "  bbr: { enabled: true }"],
        "config",
        "info",
      );
      assert.equal(bbr.line["key"], "server.bbr.enabled");
      const badBbr = await put(
        [...authLines(first), "server:", "  bbr: { enabled: maybe }"],
        "config",
        "warn",
      );
      assert.equal(
        badBbr.line["msg"],
        'etcd:/configs/helloworld.yaml: server.bbr.enabled: expected true or false, got "maybe"; keeping the last good settings',
      );
      assert.equal(await status(live, await token(first)), 200);

      // Removed: no token needed.
      await put([], "auth", "info");
      assert.equal(await status(live), 200);
    });
  });
});
