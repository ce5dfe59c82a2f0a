// The fuzz suite of `npm test` (issue 20): seeded mutations of HTTP, Connect, gRPC-Web and raw
// HTTP/2 traffic against a real server in a child process. It fails on a crash, a hang, a 5xx
// (or INTERNAL / UNKNOWN / DATA_LOSS) answered to a client error, unbounded RSS, a handler bug
// caught by recovery, or no exit on SIGTERM; the report names the seed and the failing cases.
//
// KRATOS_FUZZ_SEED=<n> (or "random") replays or varies the run; KRATOS_FUZZ_COUNT=<n> sizes
// it; KRATOS_FUZZ_FAMILIES=http,rpc-http1,rpc-h2,h2-raw limits the families (for development:
// the default run has them all). Longer runs: `npm run fuzz -- --count=<n> [--seed=<n>]`.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatReport, runFuzz } from "./runner.js";
import { defaultCount, parseCount, parseFamilies, parseSeed } from "./settings.js";

const seed = parseSeed(process.env["KRATOS_FUZZ_SEED"]);
const count = parseCount(process.env["KRATOS_FUZZ_COUNT"], defaultCount);
const only = parseFamilies(process.env["KRATOS_FUZZ_FAMILIES"]);

describe("fuzz: no request crashes, hangs or gets a server error", () => {
  it(`survives ${count} mutated requests (seed ${seed})`, { timeout: 300_000 }, async () => {
    // The budget keeps a very busy machine from running far past the 20-40 s target: the cases
    // run are then a prefix of the same sequence, and the report says so.
    const report = await runFuzz({ seed, count, only, budgetMs: 60_000 });
    const text = formatReport(report, "npm run fuzz --");
    assert.equal(report.failures.length, 0, text);
    assert.ok(report.casesRun > 0, text);
  });
});
