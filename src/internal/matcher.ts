import type { Middleware } from "../middleware/middleware.js";

/**
 * Per-operation middleware selection, as Kratos's `server.Use(selector, ...)`:
 * `/*` applies to every operation, `/pkg.Svc/*` to the operations with that prefix, anything
 * else to that exact operation. For one operation: the `/*` middleware, then the exact match's
 * or else the longest matching prefix's. Results are cached per operation until the next `use`.
 */
export class OperationMatcher {
  readonly #defaults: Middleware[] = [];
  readonly #exact = new Map<string, Middleware[]>();
  readonly #prefixes = new Map<string, Middleware[]>();
  #sortedPrefixes: string[] = [];
  readonly #cache = new Map<string, readonly Middleware[]>();

  /** Adds middleware for `selector` (`/*`, `/pkg.Svc/*` or `/pkg.Svc/Method`). */
  use(selector: string, ...middleware: Middleware[]): void {
    this.#cache.clear();
    if (selector === "/*" || selector === "*") {
      this.#defaults.push(...middleware);
      return;
    }
    if (selector.endsWith("*")) {
      const prefix = selector.slice(0, -1);
      const list = this.#prefixes.get(prefix) ?? [];
      list.push(...middleware);
      this.#prefixes.set(prefix, list);
      this.#sortedPrefixes = [...this.#prefixes.keys()].sort((a, b) => b.length - a.length);
      return;
    }
    const list = this.#exact.get(selector) ?? [];
    list.push(...middleware);
    this.#exact.set(selector, list);
  }

  /** The middleware for `operation`, outermost first. */
  match(operation: string): readonly Middleware[] {
    const cached = this.#cache.get(operation);
    if (cached !== undefined) return cached;
    const result = [...this.#defaults];
    const exact = this.#exact.get(operation);
    if (exact !== undefined) {
      result.push(...exact);
    } else {
      const prefix = this.#sortedPrefixes.find((p) => operation.startsWith(p));
      if (prefix !== undefined) result.push(...(this.#prefixes.get(prefix) ?? []));
    }
    this.#cache.set(operation, result);
    return result;
  }
}
