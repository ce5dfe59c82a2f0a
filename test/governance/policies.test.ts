// The rule kinds that drive the resilience middleware (retry, bulkhead, breaker, rateLimit):
// what each compiles good input to, and one line per problem, at its path, for bad input.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import {
  breakerPolicy,
  bulkheadPolicy,
  createGovernanceStore,
  rateLimitPolicy,
  retryPolicy,
} from "kratos-ts/governance";
import type { GovernanceIssues, GovernancePolicy } from "kratos-ts/governance";
import { externalImports } from "../helpers/import-graph.js";

/** Compiles `raw` with `policy`: the spec, or the problems as `path: message` lines. */
function compile<S>(
  policy: GovernancePolicy<S>,
  raw: unknown,
): { spec?: S | undefined; lines: string[] } {
  const lines: string[] = [];
  const issues: GovernanceIssues = {
    report(path, message) {
      lines.push(`${[policy.name, ...path].join(".")}: ${message}`);
    },
  };
  const spec = policy.compile(raw, issues);
  return lines.length > 0 ? { lines } : { spec, lines };
}

describe("retry rules", () => {
  const policy = retryPolicy();
  it("compiles snake_case and camelCase keys, Go durations and ms, code names", () => {
    const { spec, lines } = compile(policy, {
      attempts: 4,
      backoff: { base: "10ms", max: 200, multiplier: 3, jitter: "equal" },
      codes: [503, "unavailable", "504"],
      budget: { ratio: 0.2, min_per_second: 5, window: "5s" },
      non_idempotent: true,
    });
    assert.deepEqual(lines, []);
    assert.deepEqual(spec, {
      attempts: 4,
      backoff: { base: 10, max: 200, multiplier: 3, jitter: "equal" },
      codes: [503, "UNAVAILABLE", 504],
      budget: { ratio: 0.2, minPerSecond: 5, window: 5000 },
      nonIdempotent: true,
    });
    assert.deepEqual(compile(policy, {}).spec, {});
  });

  it("reports every problem, one line each, at its path", () => {
    const { lines } = compile(policy, {
      attempts: 0,
      backoff: { base: "-1s", jitter: "half", multiplier: 0.5, cap: 1 },
      codes: [200, "NOPE", 503],
      budget: { ratio: 1.5, window: "0s" },
      non_idempotent: "yes",
    });
    assert.deepEqual(lines, [
      "retry.attempts: 0 is not an integer >= 1",
      'retry.backoff.cap: unknown field "cap" (known: base, max, multiplier, jitter)',
      'retry.backoff.base: negative duration "-1s"',
      "retry.backoff.multiplier: 0.5 is not a number >= 1",
      'retry.backoff.jitter: "half" is not one of full, equal',
      "retry.codes.0: 200 is not an error status (400-599)",
      'retry.codes.1: "NOPE" is not a gRPC code name',
      "retry.budget.ratio: 1.5 is not a number in 0..1",
      "retry.budget.window: must be above 0",
      'retry.nonIdempotent: expected true or false, got "yes"',
    ]);
  });

  it("checks the whole with the middleware's own check", () => {
    assert.deepEqual(compile(policy, { backoff: { base: "1s" } }).lines, [
      "retry: 250 is not a finite number of ms >= base",
    ]);
    assert.deepEqual(compile(policy, { backoff: { base: "1s", max: "10ms" } }).lines, [
      "retry.backoff.max: 10 ms is below base (1000 ms)",
    ]);
    assert.deepEqual(compile(policy, 3).lines, ["retry: expected a map, got 3"]);
  });
});

describe("bulkhead rules", () => {
  const policy = bulkheadPolicy();
  it("compiles", () => {
    assert.deepEqual(
      compile(policy, { max_concurrent: 2, max_queue: 5, max_wait: "250ms", scope: "rule" }).spec,
      { maxConcurrent: 2, maxQueue: 5, maxWait: 250, scope: "rule" },
    );
    assert.deepEqual(compile(policy, { maxConcurrent: "3" }).spec, { maxConcurrent: 3 });
  });

  it("reports every problem", () => {
    assert.deepEqual(
      compile(policy, { max_concurrent: 0, max_queue: -1, max_wait: "-2s", scope: "all", x: 1 })
        .lines,
      [
        'bulkhead.x: unknown field "x" (known: maxConcurrent, maxQueue, maxWait, scope)',
        "bulkhead.maxConcurrent: 0 is not an integer >= 1",
        "bulkhead.maxQueue: -1 is not an integer >= 0",
        'bulkhead.maxWait: negative duration "-2s"',
        'bulkhead.scope: "all" is not one of operation, rule',
      ],
    );
    assert.deepEqual(compile(policy, { max_concurrent: 1.5 }).lines, [
      "bulkhead.maxConcurrent: 1.5 is not an integer >= 1",
    ]);
    assert.deepEqual(compile(policy, {}).lines, [
      "bulkhead.maxConcurrent: required: the most calls running at once (an integer >= 1)",
    ]);
  });
});

describe("breaker rules", () => {
  const policy = breakerPolicy();
  it("compiles", () => {
    assert.deepEqual(
      compile(policy, { k: 2, window: "3s", buckets: 5, min_requests: 10, scope: "operation" })
        .spec,
      { k: 2, window: 3000, buckets: 5, minRequests: 10, scope: "operation" },
    );
    assert.deepEqual(compile(policy, {}).spec, {});
  });

  it("reports every problem", () => {
    assert.deepEqual(
      compile(policy, { k: 0.5, window: "0s", buckets: 0, min_requests: -1, scope: "x" }).lines,
      [
        "breaker.k: 0.5 is not a number >= 1",
        "breaker.window: must be above 0",
        "breaker.buckets: 0 is not an integer >= 1",
        "breaker.minRequests: -1 is not an integer >= 0",
        'breaker.scope: "x" is not one of operation, rule',
      ],
    );
  });
});

describe("rateLimit rules", () => {
  const local = rateLimitPolicy();
  it("compiles token buckets and fixed periods, with each kind of key", () => {
    assert.deepEqual(compile(local, { kind: "token_bucket", rate: 5, burst: 10 }).spec, {
      kind: "tokenBucket",
      rate: 5,
      burst: 10,
      key: { from: "operation" },
      redis: false,
    });
    assert.deepEqual(
      compile(local, { kind: "fixed_period", limit: 100, period: "1m", key: "header:X-Api-Key" })
        .spec,
      {
        kind: "fixedPeriod",
        limit: 100,
        period: 60_000,
        key: { from: "header", name: "x-api-key" },
        redis: false,
      },
    );
    for (const [key, expected] of [
      ["metadata:x-md-user", { from: "metadata", name: "x-md-user" }],
      ["jwt_subject", { from: "jwtSubject" }],
      ["constant", { from: "constant" }],
    ] as const) {
      assert.deepEqual(compile(local, { limit: 1, key }).spec?.key, expected, key);
    }
    assert.equal(compile(local, { rate: 1 }).spec?.kind, "tokenBucket");
  });

  it("reports every problem", () => {
    assert.deepEqual(
      compile(local, {
        kind: "token_bucket",
        rate: 0,
        burst: -1,
        period: "1s",
        key: "cookie:x",
        redis: true,
      }).lines,
      [
        "rateLimit.period: not a setting of token_bucket (it takes rate, burst)",
        'rateLimit.key: unknown key "cookie:x" (operation, header:<name>, metadata:<name>, jwt_subject or constant)',
        "rateLimit.redis: no Redis client is configured (layout: data.redis.addr; code: rateLimitPolicy({ redis }))",
        "rateLimit.rate: 0 is not a number > 0",
        "rateLimit.burst: -1 is not a number > 0",
      ],
    );
    assert.deepEqual(compile(local, { kind: "leaky", key: "header:" }).lines, [
      'rateLimit.kind: unknown kind "leaky" (token_bucket or fixed_period)',
      'rateLimit.key: "header:" names no header (header:<name>)',
    ]);
    assert.deepEqual(compile(local, { kind: "fixed_period", period: "-1s" }).lines, [
      "rateLimit.limit: required: calls per period (> 0)",
      'rateLimit.period: negative duration "-1s"',
    ]);
    assert.deepEqual(compile(local, {}).lines, [
      "rateLimit: expected rate (token bucket) or limit (fixed period)",
    ]);
  });

  it("accepts redis: true once a client is configured", () => {
    // A client is only held, not used, by compile.
    const redis = {} as NonNullable<Parameters<typeof rateLimitPolicy>[0]>["redis"];
    assert.equal(compile(rateLimitPolicy({ redis }), { rate: 1, redis: true }).spec?.redis, true);
  });
});

describe("the policies through a store", () => {
  it("names the source, full key and rule of each problem", () => {
    const store = createGovernanceStore();
    const lines = store.check(
      {
        rules: [
          { name: "a", bulkhead: { max_concurrent: 0 } },
          { name: "b", match: { side: "client" }, retry: { attempts: -1 }, breaker: {} },
        ],
      },
      { origin: () => "configs/config.yaml" },
    );
    assert.deepEqual(lines, [
      'configs/config.yaml: governance.rules.0.bulkhead.maxConcurrent: 0 is not an integer >= 1 (rule "a")',
      'configs/config.yaml: governance.rules.1.retry.attempts: -1 is not an integer >= 1 (rule "b")',
      'configs/config.yaml: governance.rules.1.breaker: breaker runs on the server side only, not on the client side (rule "b")',
    ]);
  });
});

describe("kratos-ts/governance's import graph", () => {
  it("does not load ioredis: the app passes the Redis client", () => {
    const entry = fileURLToPath(new URL("../../src/governance/index.js", import.meta.url));
    const loaded = externalImports(entry).filter((e) => e.specifier === "ioredis");
    assert.deepEqual(
      loaded.map((e) => e.path.join(" -> ")),
      [],
    );
  });
});
