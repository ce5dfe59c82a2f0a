// `npm run bench:middleware`: the cost of each middleware of the layout's default chain, in
// process, without sockets: the same unary call through a chain of one middleware at a time,
// then the whole chain, with the OpenTelemetry SDK started as the layout starts it; plus the
// resilience middleware (retry, bulkhead, server breaker) on their success path.
//
// Then the cost of making a root span's W3C ids, the SDK's generator against the kit's.
//
// Options: --calls=<n> (default 200000), --rounds=<n> (default 5; the median is reported).
import { performance } from "node:perf_hooks";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { RandomIdGenerator } from "@opentelemetry/sdk-trace";
import type { IdGenerator } from "@opentelemetry/sdk-trace";
import { pino } from "pino";
import { create } from "@bufbuild/protobuf";
import { HelloRequestSchema } from "../api/helloworld/v1/greeter_pb.js";
import { createContext } from "../src/context.js";
import { governance } from "../src/governance/middleware.js";
import { createGovernanceStore } from "../src/governance/store.js";
import { createLogger } from "../src/log/create-logger.js";
import { logging } from "../src/middleware/logging.js";
import { metrics } from "../src/middleware/metrics.js";
import { bulkhead } from "../src/middleware/bulkhead.js";
import { circuitBreaker } from "../src/middleware/circuitbreaker.js";
import { quota, quotaKeys } from "../src/middleware/quota.js";
import { chain } from "../src/middleware/middleware.js";
import type { Handler, Middleware } from "../src/middleware/middleware.js";
import { recovery } from "../src/middleware/recovery.js";
import { retry } from "../src/middleware/retry.js";
import { tracing } from "../src/middleware/tracing.js";
import { validate } from "../src/middleware/validate.js";
import { createTokenBucketLimiter } from "../src/ratelimit/token-bucket.js";
import { startTelemetry } from "../src/telemetry/telemetry.js";
import { PooledIdGenerator } from "../src/telemetry/pooled-id-generator.js";
import { turnBuffer } from "../src/log/turn-buffer.js";
import { NodeHeader } from "../src/transport/header.js";
import { setRequestSchema, setServerTransport } from "../src/transport/transport.js";

const { values: args } = parseArgs({
  options: {
    calls: { type: "string", default: "200000" },
    rounds: { type: "string", default: "5" },
  },
});
const calls = Number(args.calls);
const rounds = Number(args.rounds);

const telemetry = startTelemetry({ serviceName: "bench" });
const logger = createLogger({ level: "warn" });
const request = create(HelloRequestSchema, { name: "kratos" });
const transport = {
  kind: "grpc" as const,
  endpoint: "grpc://127.0.0.1:9000",
  operation: "/helloworld.v1.Greeter/SayHello",
  requestHeader: new NodeHeader({ "content-type": "application/grpc" }),
  replyHeader: new NodeHeader({}),
};
const reply = { message: "Hello kratos" };
const service: Handler = () => Promise.resolve(reply);

const cases: [string, () => Middleware[]][] = [
  ["no middleware", () => []],
  ["recovery", () => [recovery({ logger })]],
  ["tracing (SDK, no exporter)", () => [tracing.server()]],
  ["logging (info off)", () => [logging.server({ logger })]],
  ["logging (info on, to /dev/null)", () => [logging.server({ logger: devNullLogger() })]],
  // The call log as a service writes it, to a file: a system call per line, against the
  // default destination's batches of a turn's lines (at most 4096 characters a write).
  [
    "logging (info on, to a file, a write per line)",
    () => [logging.server({ logger: fileLogger(false) })],
  ],
  [
    "logging (info on, to a file, turnBuffer)",
    () => [logging.server({ logger: fileLogger(true) })],
  ],
  ["metrics (SDK, Prometheus reader)", () => [metrics.server()]],
  ["validate (protovalidate)", () => [validate()]],
  ["governance (no rules)", () => [governance.server({ store: createGovernanceStore() })]],
  [
    "governance (ten rules, none for the call)",
    () => [governance.server({ store: createGovernanceStore({ rules: tenRules(false) }) })],
  ],
  [
    "governance (ten rules, one matching by header, 0% abort)",
    () => [governance.server({ store: createGovernanceStore({ rules: tenRules(true) }) })],
  ],
  // The resilience middleware on their success path: what every call pays with nothing failing.
  ["retry.client (call succeeds)", () => [retry.client()]],
  ["bulkhead.server (under the cap)", () => [bulkhead.server({ maxConcurrent: 1_000 })]],
  ["circuitBreaker.server (closed)", () => [circuitBreaker.server()]],
  // A bucket no call empties: the admit path (key, clock read, refill) is what is measured.
  [
    "quota (local token bucket, by operation)",
    () => [
      quota.server({
        limiter: createTokenBucketLimiter({ rate: 1e12 }),
        key: quotaKeys.operation(),
      }),
    ],
  ],
  [
    "layout chain",
    () => [
      recovery({ logger }),
      tracing.server(),
      logging.server({ logger }),
      metrics.server(),
      validate(),
    ],
  ],
];

// Ten fault rules on other operations of the service; with `matching`, the last one governs
// the benchmark's call through a header condition and a 0% abort, so the call pays for the
// header check and the policy but is never failed.
function tenRules(matching: boolean) {
  const rules: unknown[] = Array.from({ length: 9 }, (_, i) => ({
    name: `rule-${i}`,
    match: { operations: [`/helloworld.v1.Greeter/Other${i}`], headers: { "x-md-user": "beta" } },
    fault: { abort: { code: 503, percentage: 50 } },
  }));
  rules.push({
    name: "rule-9",
    match: {
      operations: [matching ? "/helloworld.v1.Greeter/*" : "/helloworld.v1.Greeter/Other9"],
      headers: { "content-type": { regex: "^application/grpc" } },
    },
    fault: { abort: { code: 503, percentage: 0 } },
  });
  return { rules };
}

const logFile = join(mkdtempSync(join(tmpdir(), "kratos-bench-log-")), "calls.log");

function fileLogger(batched: boolean) {
  const sink = pino.destination({ dest: logFile, sync: true });
  return createLogger({ level: "info", destination: batched ? turnBuffer(sink) : sink });
}

function devNullLogger() {
  return createLogger({ level: "info", destination: { write: () => undefined } });
}

async function measure(handler: Handler): Promise<number> {
  const start = performance.now();
  for (let i = 0; i < calls; i++) {
    const ctx = createContext();
    setServerTransport(ctx, transport);
    setRequestSchema(ctx, HelloRequestSchema);
    await handler(ctx, request);
  }
  return ((performance.now() - start) * 1e6) / calls;
}

const results: [string, number][] = [];
for (const [name, build] of cases) {
  const handler = chain(...build())(service);
  await measure(handler); // warm-up: JIT
  const samples: number[] = [];
  for (let r = 0; r < rounds; r++) samples.push(await measure(handler));
  samples.sort((a, b) => a - b);
  results.push([name, samples[Math.floor(samples.length / 2)] ?? 0]);
}
const base = results[0]?.[1] ?? 0;
const lines = ["| middleware | ns per call | added ns |", "| --- | ---: | ---: |"];
for (const [name, ns] of results) {
  lines.push(`| ${name} | ${ns.toFixed(0)} | ${(ns - base).toFixed(0)} |`);
}
process.stdout.write(`${calls} calls x ${rounds} rounds, median\n\n${lines.join("\n")}\n`);

// A root span makes a trace id and a span id: the SDK's generator against the kit's.
const generators: [string, IdGenerator][] = [
  ["RandomIdGenerator (SDK)", new RandomIdGenerator()],
  ["PooledIdGenerator", new PooledIdGenerator()],
];
const idLines = ["| W3C ids | ns per trace id + span id |", "| --- | ---: |"];
for (const [name, ids] of generators) {
  const samples: number[] = [];
  for (let r = 0; r <= rounds; r++) {
    const start = performance.now();
    let length = 0;
    for (let i = 0; i < calls; i++)
      length += ids.generateTraceId().length + ids.generateSpanId().length;
    if (length !== calls * 48) throw new Error(`${name} made ids of the wrong length`);
    if (r > 0) samples.push(((performance.now() - start) * 1e6) / calls); // round 0 warms up
  }
  samples.sort((a, b) => a - b);
  idLines.push(`| ${name} | ${(samples[Math.floor(samples.length / 2)] ?? 0).toFixed(0)} |`);
}
process.stdout.write(`\n${idLines.join("\n")}\n`);
await telemetry.shutdown();
