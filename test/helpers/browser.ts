// Debian's Chromium driven by playwright-core, for the browser suites. No browser download:
// `.ci/run` installs the `chromium` package, and the suites skip (or fail, when
// KRATOS_TEST_REQUIRE_BROWSER=1) without it.
import { existsSync } from "node:fs";
import { chromium } from "playwright-core";
import type { BrowserContext } from "playwright-core";

/** The Chromium binary the suites drive (Debian's `chromium` package). */
export const chromiumBinary = process.env.KRATOS_TEST_CHROMIUM_BIN ?? "/usr/bin/chromium";

const required = process.env.KRATOS_TEST_REQUIRE_BROWSER === "1";

/**
 * The `skip` option of a browser suite: a reason when Chromium is not installed; false when it
 * is, or when `KRATOS_TEST_REQUIRE_BROWSER=1` asks that a missing browser fail the run (then
 * {@link launchChromium} throws, saying so).
 */
export function browserSkip(): string | false {
  if (existsSync(chromiumBinary) || required) return false;
  return `${chromiumBinary} is not installed (apt-get install chromium): browser suites skipped`;
}

/**
 * Flags for a sandboxed machine with no network but loopback. Without the background-networking
 * ones Chromium keeps trying to reach Google's hosts, which this machine refuses; root needs
 * --no-sandbox.
 */
const chromiumArgs = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Starts headless Chromium with a fresh profile in `userDataDir`; close the context to stop it. */
export async function launchChromium(userDataDir: string): Promise<BrowserContext> {
  if (!existsSync(chromiumBinary)) {
    throw new Error(`KRATOS_TEST_REQUIRE_BROWSER=1 but ${chromiumBinary} is not installed`);
  }
  return chromium.launchPersistentContext(userDataDir, {
    executablePath: chromiumBinary,
    headless: true,
    args: chromiumArgs,
    // Start-up is ~1 s here; a generous bound for a loaded 2-core machine, still short.
    timeout: 30_000,
    viewport: { width: 1000, height: 420 },
  });
}
