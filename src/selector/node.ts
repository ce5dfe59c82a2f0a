import type { ServiceInstance } from "../registry/registry.js";
import type { Node } from "./selector.js";

/** The weight of nodes whose metadata has no valid `weight`, as in Kratos. */
export const defaultWeight = 100;

/**
 * The nodes of `instances` for one transport: one per endpoint whose scheme is `scheme` (`http`,
 * `grpc`). The weight comes from metadata `weight` (a non-negative integer; default 100).
 * Endpoints that are not URLs are skipped: one bad registration should not stop a client from
 * reaching the other instances.
 */
export function nodesFromInstances(instances: readonly ServiceInstance[], scheme: string): Node[] {
  const nodes: Node[] = [];
  for (const instance of instances) {
    const metadata = Object.freeze({ ...instance.metadata });
    const weight = parseWeight(metadata["weight"]);
    for (const endpoint of instance.endpoints) {
      const url = URL.parse(endpoint);
      if (url === null || url.protocol !== `${scheme}:` || url.host === "") continue;
      nodes.push(Object.freeze({ url, instance, weight, version: instance.version, metadata }));
    }
  }
  return nodes;
}

/**
 * Nodes for fixed URLs (`direct:///` endpoints, a single address): weight 100, no version or
 * metadata.
 */
export function nodesFromUrls(urls: readonly URL[]): Node[] {
  return urls.map((url) =>
    Object.freeze({ url, weight: defaultWeight, version: "", metadata: Object.freeze({}) }),
  );
}

function parseWeight(value: string | undefined): number {
  // Strict digits only: Number("") is 0 and Number("1e3") is 1000, neither what a publisher meant.
  if (value === undefined || !/^\d{1,9}$/.test(value.trim())) return defaultWeight;
  return Number(value.trim());
}

/**
 * `nodes[index]`, for balancers: the selector never calls them with an empty list, so a miss is
 * a bug to report, not a case to handle.
 */
export function nodeAt(nodes: readonly Node[], index: number): Node {
  const node = nodes[index];
  if (node === undefined) throw new RangeError(`balancer: no node at ${index} of ${nodes.length}`);
  return node;
}
