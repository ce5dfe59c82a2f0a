// A real browser calls the layout service from another origin: the built service runs as
// `npm start` runs it, with CORS allowing the page's origin on both servers; a second server
// (another port, so another origin) serves a page bundled here by esbuild for the browser from
// page/main.ts; Debian's Chromium, driven by playwright-core, loads it. The page calls SayHello
// and GetGreeting through connect-web (Connect JSON, Connect binary, gRPC-Web) on the gRPC port
// and through the generated HTTP client on the fetch client on the HTTP port, and renders what
// came back; GREETING_NOT_FOUND (404) must reach it on all four.
import assert from "node:assert/strict";
import { readFileSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { build } from "esbuild";
import type { BrowserContext } from "playwright-core";
import type { PathResult } from "./page-result.js";
import { browserSkip, launchChromium } from "../helpers/browser.js";
import { repoRoot, tempDir } from "../helpers/repo.js";
import { startService, writeLayoutConfig } from "../helpers/service.js";
import type { ServiceProcess } from "../helpers/service.js";

const pageDir = join(repoRoot, "test", "browser", "page");

/**
 * The page's script, bundled as a browser gets it. platform "browser" refuses node: modules,
 * so this is also a proof that the fetch client and kratos-ts/errors need none. `kratos-ts/*`
 * resolves through package.json "exports" to dist/, the code a published package ships.
 */
async function bundlePage(): Promise<string> {
  const result = await build({
    entryPoints: [join(pageDir, "main.ts")],
    absWorkingDir: repoRoot,
    bundle: true,
    platform: "browser",
    format: "esm",
    target: "es2022",
    write: false,
    logLevel: "silent",
  });
  const [output] = result.outputFiles;
  assert.ok(output !== undefined, "esbuild wrote no bundle");
  return output.text;
}

/** Serves the page and its script on a port of its own: the page's origin. */
async function servePage(script: string): Promise<Server> {
  const html = readFileSync(join(pageDir, "index.html"));
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://page").pathname;
    if (path === "/") res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(html);
    else if (path === "/main.js")
      res.writeHead(200, { "content-type": "text/javascript; charset=utf-8" }).end(script);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  return server;
}

/** The page's JSON: every path's result, or the first failure. */
interface PageOutput {
  results: PathResult[];
  failure?: string;
}

describe("a page on another origin calls the layout service", { skip: browserSkip() }, () => {
  const dir = tempDir("kratos-ts-browser-");
  const profile = join(dir.path, "profile");
  let page: Server | undefined;
  let service: (ServiceProcess & { http: URL; grpc: URL }) | undefined;
  let browser: BrowserContext | undefined;

  before(async () => {
    // Both at once; settled before either failure is thrown, so a launched browser is never
    // left behind for after() to miss.
    const [bundled, launched] = await Promise.allSettled([bundlePage(), launchChromium(profile)]);
    if (launched.status === "fulfilled") browser = launched.value;
    if (bundled.status === "rejected") throw bundled.reason;
    if (launched.status === "rejected") throw launched.reason;
    page = await servePage(bundled.value);
    // The page server before the service: the service's CORS config names its origin.
    const origin = `http://127.0.0.1:${(page.address() as AddressInfo).port}`;
    writeLayoutConfig(dir.path, { corsOrigins: [origin] });
    service = await startService(["-conf", "./configs"], dir.path);
  });

  after(async () => {
    await browser?.close();
    if (service !== undefined) {
      service.child.kill("SIGTERM");
      await service.exited;
    }
    if (page !== undefined) {
      const server = page;
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
    // Everything but the screenshot, which stays for people to look at.
    rmSync(profile, { recursive: true, force: true });
    rmSync(join(dir.path, "configs"), { recursive: true, force: true });
  });

  it("gets the replies and GREETING_NOT_FOUND (404) over connect-web and the fetch HTTP client", async (t) => {
    assert.ok(page !== undefined && service !== undefined && browser !== undefined);
    const stored = await fetch(new URL("/v1/greetings", service.http), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "stored" }),
    });
    assert.equal(stored.status, 200, await stored.clone().text());
    const greeting = (await stored.json()) as { id: string; message: string };
    const query = new URLSearchParams({
      http: service.http.origin,
      // connect-web speaks HTTP/1.1 to the gRPC port, which the port's sniffer serves.
      grpc: `http://${service.grpc.host}`,
      id: greeting.id,
      missing: String(BigInt(greeting.id) + 1000n),
    });
    const tab = await browser.newPage();
    const problems: string[] = [];
    tab.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
    tab.on("console", (m) => {
      if (m.type() === "error") problems.push(`console: ${m.text()}`);
    });
    const origin = `http://127.0.0.1:${(page.address() as AddressInfo).port}`;
    await tab.goto(`${origin}/?${query.toString()}`, { timeout: 15_000 });
    await tab
      .locator("body[data-done]")
      .waitFor({ state: "attached", timeout: 20_000 })
      .catch((err: unknown) => {
        throw new Error(`the page never finished: ${problems.join("; ") || "no errors"}`, {
          cause: err,
        });
      });
    const screenshot = join(dir.path, "greeter.png");
    await tab.screenshot({ path: screenshot, fullPage: true });
    t.diagnostic(`screenshot: ${screenshot}`);

    const output = JSON.parse((await tab.locator("#json").textContent()) ?? "") as PageOutput;
    assert.equal(output.failure, undefined, `${output.failure ?? ""}; ${problems.join("; ")}`);
    assert.equal(await tab.locator("body").getAttribute("data-done"), "ok");
    const notFound = { code: 404, reason: "GREETING_NOT_FOUND", isGreetingNotFound: true };
    const viaConnect = {
      type: "ConnectError",
      connectCode: "not_found",
      errorInfoReason: "GREETING_NOT_FOUND",
      ...notFound,
    };
    const expected = (path: string, error: PathResult["error"]): PathResult => ({
      path,
      hello: "Hello browser",
      greeting: greeting.message,
      error,
    });
    assert.deepEqual(output.results, [
      expected("connect-json", viaConnect),
      expected("connect-binary", viaConnect),
      expected("grpc-web", viaConnect),
      expected("http-fetch", {
        type: "KratosError",
        connectCode: "",
        errorInfoReason: "",
        ...notFound,
      }),
    ]);
  });
});
