/**
 * The exports of a lazily imported CommonJS package, whoever loaded it. Node's `import()` of a
 * CommonJS module gives a namespace with its exports by name (as far as Node's static analysis
 * finds them) beside `default`; a bundle with code splitting (esbuild, as the layout's
 * `npm start` runs) gives only `default`, the `module.exports` value. Either way, this returns
 * the object whose properties are the package's exports.
 */
export function commonJsExports<T extends object>(loaded: T): T {
  const exports = (loaded as { default?: unknown }).default;
  const onlyDefault = Object.keys(loaded).every((k) => k === "default" || k === "module.exports");
  const usable = (typeof exports === "object" && exports !== null) || typeof exports === "function";
  return onlyDefault && usable ? (exports as T) : loaded;
}
