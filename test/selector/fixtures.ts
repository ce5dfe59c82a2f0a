import type { Node } from "../../src/selector/index.js";

/** A node at `http://<name>:8000` with the given weight, version and metadata. */
export function node(
  name: string,
  init: { weight?: number; version?: string; metadata?: Record<string, string> } = {},
): Node {
  return {
    url: new URL(`http://${name}:8000`),
    weight: init.weight ?? 100,
    version: init.version ?? "",
    metadata: init.metadata ?? {},
  };
}

/** The host of a node's URL (`a` for `http://a:8000`), to compare picks compactly. */
export function host(n: Node): string {
  return n.url.hostname;
}

/** A manual clock in milliseconds. */
export function manualClock(): { now: () => number; advance: (ms: number) => void } {
  let t = 0;
  return {
    now: () => t,
    advance: (ms) => {
      t += ms;
    },
  };
}

/** A deterministic random in [0, 1) (mulberry32), so distribution tests cannot flake. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
