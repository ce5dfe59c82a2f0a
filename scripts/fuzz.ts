// `npm run fuzz -- --count=<n> [--seed=<n>|random] [--from=<i>] [--families=a,b]`: the fuzz
// suite of `npm test` (test/fuzz/), longer and with progress, for local runs. Exits 1 when any
// failure was found; the report says how to replay each one.
import { parseArgs } from "node:util";
import { formatReport, runFuzz } from "../test/fuzz/runner.js";
import { parseCount, parseFamilies, parseSeed } from "../test/fuzz/settings.js";

const { values } = parseArgs({
  options: {
    count: { type: "string" },
    seed: { type: "string" },
    from: { type: "string" },
    families: { type: "string" },
    concurrency: { type: "string" },
  },
});

const seed = parseSeed(values.seed ?? process.env["KRATOS_FUZZ_SEED"] ?? "random");
const count = parseCount(values.count ?? process.env["KRATOS_FUZZ_COUNT"], 20_000);
const from = parseCount(values.from, 0);
const concurrency = parseCount(values.concurrency, 8);
const only = parseFamilies(values.families ?? process.env["KRATOS_FUZZ_FAMILIES"]);

process.stdout.write(`fuzz: seed ${seed}, cases ${from}..${from + count - 1}\n`);
const report = await runFuzz({
  seed,
  count,
  from,
  only,
  concurrency,
  onProgress: (line) => process.stdout.write(`  ${line}\n`),
});
process.stdout.write(`${formatReport(report)}\n`);
process.exitCode = report.failures.length === 0 ? 0 : 1;
