// The rule model: matching (side, service, operations, regex, headers), precedence per policy
// kind, and whole-set validation with one line per problem naming the source, key and rule.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createGovernanceStore, GovernanceError } from "kratos-ts/governance";
import { createLogger } from "kratos-ts/log";
import type { GovernanceSide } from "kratos-ts/governance";
import { NodeHeader } from "kratos-ts/transport";

const say = "/helloworld.v1.Greeter/SayHello";
const get = "/helloworld.v1.Greeter/GetGreeting";
const served = [say, get, "/helloworld.v1.Greeter/CreateGreeting"];
const abort = { abort: { code: 503 } };

/** The rule names whose policies govern a call. */
function governing(
  rules: unknown[],
  side: GovernanceSide,
  operation: string,
  headers: Record<string, string> = {},
): string[] {
  const store = createGovernanceStore({ rules: { rules } });
  const set = store.current;
  const chosen = set.policiesFor(set.plan(side, operation), side, new NodeHeader(headers));
  return chosen.map((b) => set.rules.find((r) => r.policies.includes(b))?.name ?? "?");
}

describe("governance rule matching", () => {
  const table: [
    string,
    Record<string, unknown>,
    GovernanceSide,
    string,
    Record<string, string>,
    boolean,
  ][] = [
    ["no match: every call", {}, "server", say, {}, true],
    ["exact operation", { operations: [say] }, "server", say, {}, true],
    ["exact operation, other call", { operations: [say] }, "server", get, {}, false],
    ["a single string", { operations: say }, "server", say, {}, true],
    ["prefix", { operations: ["/helloworld.v1.Greeter/*"] }, "server", get, {}, true],
    ["prefix of another service", { operations: ["/other.v1.Svc/*"] }, "server", get, {}, false],
    ["all", { operations: ["/*"] }, "client", get, {}, true],
    ["service", { service: "helloworld.v1.Greeter" }, "server", say, {}, true],
    ["service, other", { service: "helloworld.v1.Greete" }, "server", say, {}, false],
    ["regex", { regex: "/Say" }, "server", say, {}, true],
    ["regex, other", { regex: "^/helloworld\\.v1\\.Greeter/Get" }, "server", say, {}, false],
    [
      "regex and operations both hold",
      { operations: [say], regex: "Get" },
      "server",
      say,
      {},
      false,
    ],
    ["side server, on the client", { side: "server" }, "client", say, {}, false],
    ["side client, on the client", { side: "client" }, "client", say, {}, true],
    [
      "exact header",
      { headers: { "x-md-user": "beta" } },
      "server",
      say,
      { "x-md-user": "beta" },
      true,
    ],
    [
      "exact header, other value",
      { headers: { "x-md-user": "beta" } },
      "server",
      say,
      { "x-md-user": "b" },
      false,
    ],
    ["exact header, absent", { headers: { "x-md-user": "beta" } }, "server", say, {}, false],
    [
      "header names ignore case",
      { headers: { "X-MD-User": "beta" } },
      "server",
      say,
      { "x-md-user": "beta" },
      true,
    ],
    [
      "regex header",
      { headers: { "x-md-user": { regex: "^beta-" } } },
      "server",
      say,
      { "x-md-user": "beta-7" },
      true,
    ],
    [
      "regex header, other",
      { headers: { "x-md-user": { regex: "^beta-" } } },
      "server",
      say,
      { "x-md-user": "alpha" },
      false,
    ],
    [
      "exact header as a map",
      { headers: { "x-md-user": { exact: "beta" } } },
      "server",
      say,
      { "x-md-user": "beta" },
      true,
    ],
  ];
  for (const [name, match, side, operation, headers, expected] of table) {
    it(name, () => {
      assert.deepEqual(
        governing([{ name: "r", match, fault: abort }], side, operation, headers),
        expected ? ["r"] : [],
      );
    });
  }

  it("picks, per policy kind, the first matching rule that carries it", () => {
    const rules = [
      { name: "beta", match: { headers: { "x-md-user": "beta" } }, fault: abort },
      { name: "all", fault: { delay: { duration: "1ms" } }, retry: { attempts: 3 } },
    ];
    assert.deepEqual(governing(rules, "client", say, { "x-md-user": "beta" }), ["all", "beta"]);
    assert.deepEqual(governing(rules, "client", say), ["all", "all"]);
    // retry runs on the client only.
    assert.deepEqual(governing(rules, "server", say), ["all"]);
  });

  it("keeps an unchanged rule's policy instance across updates, and swaps the snapshot", () => {
    const store = createGovernanceStore({ rules: { rules: [{ name: "a", fault: abort }] } });
    const before = store.current;
    const instance = before.rules[0]?.policies[0];
    assert.ok(
      store.update({
        rules: [
          { name: "a", fault: abort },
          { name: "b", fault: abort },
        ],
      }),
    );
    assert.notEqual(store.current, before);
    assert.equal(store.current.rules[0]?.policies[0], instance);
    assert.equal(before.rules.length, 1, "the old snapshot is untouched");
    assert.ok(store.update(undefined));
    assert.equal(store.current.empty, true);
  });
});

describe("governance rule validation", () => {
  const origin = (key: string) =>
    key.startsWith("governance.rules.1") ? "etcd:/configs/x.yaml" : "configs/config.yaml";
  const check = (rules: unknown) =>
    createGovernanceStore({ operations: served }).check({ rules }, { origin });
  const table: [string, unknown, string][] = [
    [
      "an unknown field",
      [{ name: "r", fault: abort, faults: {} }],
      'configs/config.yaml: governance.rules.0.faults: unknown field "faults" (known: name, match, rateLimit, bulkhead, breaker, route, retry, fault) (rule "r")',
    ],
    [
      "an unknown field of a fault",
      [{ name: "r", fault: { abort: { code: 503, percent: 5 } } }],
      'configs/config.yaml: governance.rules.0.fault.abort.percent: unknown field "percent" (known: code, reason, message, percentage) (rule "r")',
    ],
    [
      "a percentage above 100",
      [{ name: "r", fault: { abort: { code: 503, percentage: 120 } } }],
      'configs/config.yaml: governance.rules.0.fault.abort.percentage: 120 is outside 0..100 (rule "r")',
    ],
    [
      "a negative percentage",
      [{ name: "r", fault: { delay: { duration: "1s", percentage: -1 } } }],
      'configs/config.yaml: governance.rules.0.fault.delay.percentage: -1 is outside 0..100 (rule "r")',
    ],
    [
      "a negative duration",
      [{ name: "r", fault: { delay: { duration: "-5ms" } } }],
      'configs/config.yaml: governance.rules.0.fault.delay.duration: negative duration "-5ms" (rule "r")',
    ],
    [
      "a bad duration",
      [{ name: "r", fault: { delay: { duration: "5x" } } }],
      'configs/config.yaml: governance.rules.0.fault.delay.duration: expected a duration, got "5x" (use a number with a unit: 500ms, 1s, 1m30s, 2h) (rule "r")',
    ],
    [
      "an unknown code name",
      [{ name: "r", fault: { abort: { code: "UNAVAILABLEE" } } }],
      'configs/config.yaml: governance.rules.0.fault.abort.code: unknown code "UNAVAILABLEE"',
    ],
    [
      "a code that is no error",
      [{ name: "r", fault: { abort: { code: 200 } } }],
      'configs/config.yaml: governance.rules.0.fault.abort.code: 200 is not an HTTP error code 400..599 (rule "r")',
    ],
    [
      "a bad regex",
      [{ name: "r", match: { regex: "(" }, fault: abort }],
      'configs/config.yaml: governance.rules.0.match.regex: bad regular expression "("',
    ],
    [
      "a bad header regex",
      [{ name: "r", match: { headers: { "x-md-user": { regex: "[" } } }, fault: abort }],
      'configs/config.yaml: governance.rules.0.match.headers.x-md-user.regex: bad regular expression "["',
    ],
    [
      "an unknown operation, from etcd",
      [
        { name: "ok", fault: abort },
        { name: "r", match: { operations: ["/helloworld.v1.Greeter/SayHi"] }, fault: abort },
      ],
      'etcd:/configs/x.yaml: governance.rules.1.match.operations.0: unknown operation "/helloworld.v1.Greeter/SayHi" (rule "r")',
    ],
    [
      "an unknown service",
      [{ name: "r", match: { service: "helloworld.v1.Greet" }, fault: abort }],
      'configs/config.yaml: governance.rules.0.match.service: unknown service "helloworld.v1.Greet" (served: helloworld.v1.Greeter) (rule "r")',
    ],
    [
      "a prefix naming no operation",
      [{ name: "r", match: { operations: ["/other.v1.Svc/*"] }, fault: abort }],
      'configs/config.yaml: governance.rules.0.match.operations.0: no served operation starts with "/other.v1.Svc/" (rule "r")',
    ],
    [
      "a bad side",
      [{ name: "r", match: { side: "both" }, fault: abort }],
      'configs/config.yaml: governance.rules.0.match.side: expected server or client, got "both" (rule "r")',
    ],
    [
      "a policy on a side it does not run on",
      [{ name: "r", match: { side: "server" }, retry: {} }],
      'configs/config.yaml: governance.rules.0.retry: retry runs on the client side only, not on the server side (rule "r")',
    ],
    [
      "a duplicate name",
      [
        { name: "r", fault: abort },
        { name: "r", fault: abort },
      ],
      'etcd:/configs/x.yaml: governance.rules.1.name: duplicate rule name (also rules.0) (rule "r")',
    ],
    [
      "a rule without a name",
      [{ fault: abort }],
      "configs/config.yaml: governance.rules.0.name: expected a non-empty string, got undefined",
    ],
    [
      "a rule without a policy",
      [{ name: "r" }],
      "configs/config.yaml: governance.rules.0: a rule needs a policy",
    ],
    [
      "rules that are no list",
      { r: {} },
      'configs/config.yaml: governance.rules: expected a list of rules, got {"r":{}}',
    ],
  ];
  for (const [name, rules, expected] of table) {
    it(`refuses ${name}, in one line`, () => {
      const errors = check(rules);
      assert.equal(errors.length, 1, errors.join("\n"));
      assert.ok(
        errors[0]?.startsWith(expected),
        `${errors[0]}\n  does not start with\n${expected}`,
      );
      assert.doesNotMatch(errors[0] ?? "", /\n/);
    });
  }

  it("lists every problem of a rule set, and checks client-only rules without the served set", () => {
    const errors = check([
      { name: "a", fault: { abort: { code: 700, percentage: 101 } } },
      { name: "b", match: { side: "client", operations: ["/other.v1.Svc/Call"] }, fault: abort },
    ]);
    assert.equal(errors.length, 2, errors.join("\n"));
  });

  it("takes snake_case keys and gRPC code names", () => {
    const store = createGovernanceStore({
      rules: {
        rules: [
          { name: "r", rate_limit: { rate: 10 }, fault: { abort: { code: "resource_exhausted" } } },
        ],
      },
    });
    assert.equal(store.current.rules[0]?.policies.length, 2);
  });

  it("throws the first problem at start, with the count of the others", () => {
    assert.throws(
      () =>
        createGovernanceStore({
          origin: () => "configs/config.yaml",
          rules: { rules: [{ name: "a", fault: { abort: { code: 1 } } }, { name: "b" }] },
        }),
      (err: unknown) =>
        err instanceof GovernanceError &&
        err.errors.length === 2 &&
        /^configs\/config\.yaml: governance\.rules\.0\.fault\.abort\.code: 1 is not an HTTP error code 400\.\.599 \(rule "a"\) \(and 1 more\)$/.test(
          err.message,
        ),
    );
  });

  it("refuses a bad update with one warning naming the key, and keeps the last good rules", () => {
    const warnings: { fields: Record<string, unknown>; msg: string }[] = [];
    const logger = createLogger({
      destination: {
        write: (line: string) => {
          const { level, msg, ...fields } = JSON.parse(line) as Record<string, unknown>;
          if (level === "warn") warnings.push({ fields, msg: String(msg) });
        },
      },
    });
    const store = createGovernanceStore({
      logger,
      origin: () => "configs/config.yaml",
      rules: { rules: [{ name: "a", fault: abort }] },
    });
    const good = store.current;
    assert.equal(
      store.update({ rules: [{ name: "a", fault: { abort: { code: 503, percentage: 200 } } }] }),
      false,
    );
    assert.equal(store.current, good);
    assert.equal(warnings.length, 1);
    const [warning] = warnings;
    assert.ok(warning !== undefined);
    assert.equal(warning.fields["key"], "governance");
    assert.equal(warning.fields["file"], "configs/config.yaml");
    assert.match(
      warning.msg,
      /governance\.rules\.0\.fault\.abort\.percentage: 200 is outside 0\.\.100/,
    );
  });
});
