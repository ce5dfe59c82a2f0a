/**
 * Request or reply headers as the middleware chain sees them, the same on every transport
 * (gRPC metadata included). Names are case-insensitive; a name may hold several values.
 */
export interface Header {
  /** The first value of `name`, or undefined. */
  get(name: string): string | undefined;
  /** Replaces every value of `name`. */
  set(name: string, value: string): void;
  /** Adds a value to `name`. */
  add(name: string, value: string): void;
  /** Removes `name`. */
  delete(name: string): void;
  /** Every value of `name` (empty when absent). */
  values(name: string): string[];
  /** The names present, lower-cased. */
  keys(): string[];
}

/**
 * Headers as a plain object, lower-case names: node's `IncomingHttpHeaders`,
 * `OutgoingHttpHeaders` and http2 header objects all fit. Spelled out here rather than imported
 * from node:http so that the browser-safe client (transport/http/fetch.ts) reaches no node
 * module, not even in its type declarations.
 */
export type RawHeaders = Record<string, string | string[] | number | undefined>;

/**
 * A Header over a plain object of node headers (`req.headers`, an http2 headers object, or a
 * fresh one for replies). No copy is made, so wrapping a request costs one allocation.
 */
export class NodeHeader implements Header {
  readonly raw: RawHeaders;

  constructor(raw: RawHeaders = {}) {
    this.raw = raw;
  }

  get(name: string): string | undefined {
    const v = this.raw[name.toLowerCase()];
    if (v === undefined) return undefined;
    if (Array.isArray(v)) return v[0];
    return typeof v === "number" ? String(v) : v;
  }

  set(name: string, value: string): void {
    this.raw[name.toLowerCase()] = value;
  }

  add(name: string, value: string): void {
    const key = name.toLowerCase();
    const v = this.raw[key];
    if (v === undefined) this.raw[key] = value;
    else if (Array.isArray(v)) v.push(value);
    else this.raw[key] = [String(v), value];
  }

  delete(name: string): void {
    // Setting undefined keeps the object's shape stable (delete would make V8 slow it down).
    this.raw[name.toLowerCase()] = undefined;
  }

  values(name: string): string[] {
    const v = this.raw[name.toLowerCase()];
    if (v === undefined) return [];
    if (Array.isArray(v)) return v.slice();
    return [String(v)];
  }

  keys(): string[] {
    return Object.keys(this.raw).filter((k) => this.raw[k] !== undefined && !k.startsWith(":"));
  }
}
