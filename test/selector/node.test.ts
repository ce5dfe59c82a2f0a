import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ServiceInstance } from "../../src/registry/index.js";
import { nodesFromInstances, nodesFromUrls } from "../../src/selector/index.js";

function instance(
  id: string,
  endpoints: string[],
  metadata: Record<string, string> = {},
): ServiceInstance {
  return { id, name: "helloworld", version: `v-${id}`, metadata, endpoints };
}

describe("nodesFromInstances", () => {
  const instances = [
    instance("1", ["http://10.0.0.1:8000", "grpc://10.0.0.1:9000"], { weight: "5", zone: "x" }),
    instance("2", ["grpc://10.0.0.2:9000?isSecure=false", "not a url", "grpc://"]),
    instance("3", ["http://10.0.0.3:8000"]),
  ];

  const schemes: [string, string[]][] = [
    ["http", ["http://10.0.0.1:8000", "http://10.0.0.3:8000"]],
    ["grpc", ["grpc://10.0.0.1:9000", "grpc://10.0.0.2:9000?isSecure=false"]],
    ["https", []],
  ];
  for (const [scheme, want] of schemes) {
    it(`keeps the ${scheme} endpoints only, skipping the ones that are not URLs`, () => {
      assert.deepEqual(
        nodesFromInstances(instances, scheme).map((n) => n.url.href),
        want.map((u) => new URL(u).href),
      );
    });
  }

  it("carries the instance, its version and metadata", () => {
    const [first] = nodesFromInstances(instances, "grpc");
    assert.ok(first);
    assert.equal(first.instance, instances[0]);
    assert.equal(first.version, "v-1");
    assert.deepEqual(first.metadata, { weight: "5", zone: "x" });
    assert.ok(Object.isFrozen(first) && Object.isFrozen(first.metadata));
  });

  const weights: [string | undefined, number][] = [
    ["5", 5],
    [" 7 ", 7],
    ["0", 0],
    [undefined, 100],
    ["", 100],
    ["abc", 100],
    ["-1", 100],
    ["1.5", 100],
    ["1e3", 100],
  ];
  for (const [value, want] of weights) {
    it(`reads metadata weight ${JSON.stringify(value)} as ${want}`, () => {
      const metadata: Record<string, string> = value === undefined ? {} : { weight: value };
      const [n] = nodesFromInstances([instance("1", ["http://h:1"], metadata)], "http");
      assert.equal(n?.weight, want);
    });
  }
});

describe("nodesFromUrls", () => {
  it("makes weight-100 nodes without version or metadata", () => {
    const [n] = nodesFromUrls([new URL("http://h:1")]);
    assert.deepEqual(
      { href: n?.url.href, weight: n?.weight, version: n?.version, metadata: n?.metadata },
      { href: "http://h:1/", weight: 100, version: "", metadata: {} },
    );
  });
});
