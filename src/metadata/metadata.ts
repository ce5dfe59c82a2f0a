import { createContextKey } from "../context.js";
import type { Context } from "../context.js";

/**
 * Key-value pairs that travel with a call, across hops: what Kratos's `metadata.Metadata` is.
 * Keys are case-insensitive (stored lower-cased); a key may hold several values.
 */
export class Metadata {
  readonly #map = new Map<string, string[]>();

  constructor(init: Record<string, string | readonly string[]> = {}) {
    for (const [k, v] of Object.entries(init)) {
      for (const value of typeof v === "string" ? [v] : v) this.add(k, value);
    }
  }

  /** The first value of `key`. */
  get(key: string): string | undefined {
    return this.#map.get(key.toLowerCase())?.[0];
  }

  /** Every value of `key`. */
  values(key: string): string[] {
    return [...(this.#map.get(key.toLowerCase()) ?? [])];
  }

  set(key: string, ...values: string[]): this {
    this.#map.set(key.toLowerCase(), values);
    return this;
  }

  add(key: string, value: string): this {
    const k = key.toLowerCase();
    const list = this.#map.get(k);
    if (list === undefined) this.#map.set(k, [value]);
    else list.push(value);
    return this;
  }

  delete(key: string): this {
    this.#map.delete(key.toLowerCase());
    return this;
  }

  keys(): string[] {
    return [...this.#map.keys()];
  }

  /** `[key, values]` pairs. */
  entries(): [string, string[]][] {
    return [...this.#map].map(([k, v]) => [k, [...v]]);
  }

  clone(): Metadata {
    const copy = new Metadata();
    for (const [k, v] of this.#map) copy.set(k, ...v);
    return copy;
  }
}

const serverKey = createContextKey<Metadata | undefined>(undefined, "server metadata");
const clientKey = createContextKey<Metadata | undefined>(undefined, "client metadata");

/** The metadata a server call received (set by `metadata.server()` middleware). */
export function serverMetadata(ctx: Context): Metadata | undefined {
  return ctx.values.get(serverKey);
}

export function setServerMetadata(ctx: Context, md: Metadata): void {
  ctx.values.set(serverKey, md);
}

/** The metadata outgoing client calls made with this context send. */
export function clientMetadata(ctx: Context): Metadata | undefined {
  return ctx.values.get(clientKey);
}

/**
 * Adds metadata to the client calls made with `ctx` (passed as their `context` option), as
 * Kratos's `metadata.AppendToClientContext`.
 */
export function appendClientMetadata(ctx: Context, entries: Record<string, string>): void {
  const md = ctx.values.get(clientKey)?.clone() ?? new Metadata();
  for (const [k, v] of Object.entries(entries)) md.add(k, v);
  ctx.values.set(clientKey, md);
}
