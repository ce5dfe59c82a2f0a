// Route rules in process: compile checks the whole `route` (one problem, one line, with its
// path), the weighted draw is exact with a seeded generator, and the filter the middleware
// hands to the node picker keeps the drawn destination's nodes or falls back as the rule says.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createContext } from "kratos-ts/context";
import type { Context } from "kratos-ts/context";
import { KratosError } from "kratos-ts/errors";
import {
  chooseDestination,
  createGovernanceStore,
  defaultPolicies,
  governance,
  routePolicy,
  seededRandom,
  withPolicies,
} from "kratos-ts/governance";
import type { GovernanceIssues, RouteSpec } from "kratos-ts/governance";
import type { ServiceInstance } from "kratos-ts/registry";
import { nodesFromInstances } from "kratos-ts/selector";
import type { Node } from "kratos-ts/selector";
import { NodeHeader, routedNodes, setClientTransport } from "kratos-ts/transport";
import { testMeters } from "../helpers/metric-reader.js";

const say = "/helloworld.v1.Greeter/SayHello";

/** The problems of a rule set with one rule carrying `route`. */
function check(route: unknown, match?: unknown): readonly string[] {
  const rules = [{ name: "canary", ...(match === undefined ? {} : { match }), route }];
  return createGovernanceStore().check({ rules });
}

function compile(raw: unknown): RouteSpec {
  const problems: string[] = [];
  const issues: GovernanceIssues = {
    report: (path, m) => problems.push(`${path.join(".")}: ${m}`),
  };
  const spec = routePolicy().compile(raw, issues);
  assert.deepEqual(problems, []);
  assert.ok(spec !== undefined);
  return spec;
}

/** Nodes of instances `v1-a`, `v1-b` (version v1) and `v2-a` (v2, metadata env=canary). */
function nodes(versions: Record<string, string> = { "v1-a": "v1", "v1-b": "v1", "v2-a": "v2" }) {
  const instances = Object.entries(versions).map(([id, version], i): ServiceInstance => ({
    id,
    name: "helloworld",
    version,
    metadata: version === "v2" ? { env: "canary" } : {},
    endpoints: [`grpc://127.0.0.1:${9000 + i}`],
  }));
  return nodesFromInstances(instances, "grpc");
}

/** A client call's context for `say` with `headers`. */
function callContext(headers: Record<string, string> = {}) {
  const ctx = createContext();
  setClientTransport(ctx, {
    kind: "grpc",
    endpoint: "",
    operation: say,
    requestHeader: new NodeHeader(headers),
    replyHeader: new NodeHeader({}),
  });
  return ctx;
}

const ids = (list: Node[]) => list.map((n) => n.instance?.id).join(",");

describe("route rules", () => {
  it("accepts the documented forms", () => {
    assert.deepEqual(
      check({
        destinations: [
          { version: "v1", weight: 90 },
          { version: "v2", weight: 10 },
        ],
        fallback: "fail",
      }),
      [],
    );
    assert.deepEqual(
      check({ destinations: [{ version: "v2" }] }, { headers: { "x-md-user": "beta" } }),
      [],
    );
    assert.deepEqual(
      check({
        destinations: [
          { name: "canary", metadata: { env: "canary" }, weight: "5" },
          { version: "v1", weight: 95 },
        ],
      }),
      [],
    );
    const spec = compile({ destinations: [{ version: "v2" }, { metadata: { env: "x", n: 1 } }] });
    assert.equal(spec.fallback, "next");
    assert.deepEqual(
      spec.destinations.map((d) => [d.label, d.weight]),
      [
        ["version=v2", 1],
        ["env=x,n=1", 1],
      ],
    );
  });

  it("reports every problem of a route, one line each with its path", () => {
    const at = "governance.rules.0.route";
    const cases: [string, unknown, string[]][] = [
      ["not a map", [1], [`${at}: expected a map, got`]],
      ["no destinations", {}, [`${at}.destinations: required`]],
      [
        "empty destinations",
        { destinations: [] },
        [`${at}.destinations: expected a non-empty list`],
      ],
      [
        "unknown keys",
        { destinations: [{ version: "v1", tag: "x" }], fallbak: "next" },
        [`${at}.fallbak: unknown field "fallbak"`, `${at}.destinations.0.tag: unknown field "tag"`],
      ],
      [
        "unknown fallback",
        { destinations: [{ version: "v1" }], fallback: "random" },
        [`${at}.fallback: expected next or fail, got "random"`],
      ],
      [
        "negative weight and a missing one",
        { destinations: [{ version: "v1", weight: -1 }, { version: "v2" }] },
        [
          `${at}.destinations.0.weight: negative weight -1`,
          `${at}.destinations.1.weight: required when another destination has a weight`,
        ],
      ],
      [
        "weights summing to 0",
        {
          destinations: [
            { version: "v1", weight: 0 },
            { version: "v2", weight: 0 },
          ],
        },
        [`${at}.destinations: the weights sum to 0`],
      ],
      [
        "no version or metadata",
        { destinations: [{ weight: 1 }] },
        [`${at}.destinations.0: expected version, metadata or both`],
      ],
      [
        "bad metadata and version",
        { destinations: [{ version: 2, metadata: { env: ["a"] } }] },
        [
          `${at}.destinations.0.version: expected a non-empty string`,
          `${at}.destinations.0.metadata.env: expected a string`,
        ],
      ],
      [
        "same destination twice",
        { destinations: [{ version: "v1" }, { version: "v1" }] },
        [`${at}.destinations.1: same destination as destinations.0`],
      ],
    ];
    for (const [what, route, expected] of cases) {
      const errors = check(route);
      assert.equal(errors.length, expected.length, `${what}: ${errors.join("\n")}`);
      for (const [i, prefix] of expected.entries()) {
        assert.ok(
          errors[i]?.startsWith(prefix),
          `${what}: ${errors[i]} does not start with ${prefix}`,
        );
        assert.match(errors[i] ?? "", /\(rule "canary"\)$/);
      }
    }
  });

  it("runs on the client only", () => {
    const errors = check({ destinations: [{ version: "v2" }] }, { side: "server" });
    assert.deepEqual(errors, [
      'governance.rules.0.route: route runs on the client side only, not on the server side (rule "canary")',
    ]);
  });

  it("draws destinations by weight: exact counts with a seeded generator", () => {
    const spec = compile({
      destinations: [
        { version: "v1", weight: 90 },
        { version: "v0", weight: 0 },
        { version: "v2", weight: 10 },
      ],
    });
    const random = seededRandom(42);
    const twin = seededRandom(42);
    const counts = [0, 0, 0];
    let expectedV2 = 0;
    for (let i = 0; i < 1000; i++) {
      const drawn = chooseDestination(spec.destinations, 100, random);
      counts[drawn] = (counts[drawn] ?? 0) + 1;
      if (twin() * 100 >= 90) expectedV2++;
    }
    assert.deepEqual(counts, [1000 - expectedV2, 0, expectedV2]);
    assert.ok(expectedV2 >= 70 && expectedV2 <= 130, `${expectedV2} of 1000 to v2`);
    // The edges: 0 goes to the first weighted destination, just under 1 to the last.
    assert.equal(
      chooseDestination(spec.destinations, 100, () => 0),
      0,
    );
    assert.equal(
      chooseDestination(spec.destinations, 100, () => 0.999999),
      2,
    );
  });

  it("hands the picker a filter: the drawn destination, next ones, or 503 NODE_NOT_FOUND", async () => {
    const meters = testMeters();
    const store = createGovernanceStore({
      random: seededRandom(1),
      policies: withPolicies(
        defaultPolicies(),
        routePolicy({ meterProvider: meters.meterProvider }),
      ),
      rules: {
        rules: [
          {
            name: "beta",
            match: { headers: { "x-md-user": "beta" } },
            route: { destinations: [{ metadata: { env: "canary" } }], fallback: "fail" },
          },
          {
            name: "split",
            route: {
              destinations: [
                { version: "v2", weight: 50 },
                { version: "v1", weight: 50 },
              ],
            },
          },
        ],
      },
    });
    // Stands for the node picker: applies the call's route filter to the live nodes.
    let live = nodes();
    const picker = (ctx: Context) => {
      const filter = routedNodes(ctx);
      assert.ok(filter !== undefined, "no route filter for the picker");
      return Promise.resolve(ids(filter([...live])));
    };
    const call = governance.client({ store })(picker);

    assert.equal(await call(callContext({ "x-md-user": "beta" }), {}), "v2-a");
    live = nodes({ "v1-a": "v1" });
    await assert.rejects(
      call(callContext({ "x-md-user": "beta" }), {}),
      (err: unknown) =>
        err instanceof KratosError &&
        err.code === 503 &&
        err.reason === "NODE_NOT_FOUND" &&
        /route rule "beta": no live instance of env=canary$/.test(err.message),
    );

    // 50/50 with fallback next: with no v2 instance, every call goes to v1.
    const seen = new Set<string>();
    for (let i = 0; i < 20; i++) {
      live = nodes();
      seen.add(String(await call(callContext(), {})));
      live = nodes({ "v1-a": "v1" });
      assert.equal(await call(callContext(), {}), "v1-a");
    }
    assert.deepEqual([...seen].sort(), ["v1-a,v1-b", "v2-a"]);

    // Counted per destination the call went to; `none` when it had none.
    const routed = (rule: string, destination: string) =>
      meters.value("client_routed_total", { rule, destination, operation: say });
    assert.equal(await routed("beta", "env=canary"), 1);
    assert.equal(await routed("beta", "none"), 1);
    const v2 = await routed("split", "version=v2");
    assert.ok(v2 > 0 && v2 < 20, `${v2} to v2`);
    assert.equal(v2 + (await routed("split", "version=v1")), 40);
    await store.close();
  });
});
