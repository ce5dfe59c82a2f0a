import type { NodeFilter } from "./selector.js";

/** Keeps the nodes of instances with exactly this version (Kratos `filter.Version`). */
export function versionFilter(version: string): NodeFilter {
  return function versionFilter(nodes) {
    return nodes.filter((node) => node.version === version);
  };
}

/** Keeps the nodes whose metadata has every key of `match` with the same value. */
export function metadataFilter(match: Readonly<Record<string, string>>): NodeFilter {
  const entries = Object.entries(match);
  return function metadataFilter(nodes) {
    return nodes.filter((node) =>
      entries.every(
        ([key, value]) => Object.hasOwn(node.metadata, key) && node.metadata[key] === value,
      ),
    );
  };
}
