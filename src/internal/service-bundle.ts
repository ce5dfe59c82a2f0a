/**
 * Where `npm start` finds a service's bundle: scripts/bundle-service.mjs bundles the compiled
 * `dist/cmd/<service>/main.js` into `dist/bundle/<service>/` (one file plus lazy chunks), which
 * starts in about half the time of the ~1,000 modules it is made of (bench/README.md, "Cold
 * start"). The layout's `npm start`, a generated project's, the tests and the benchmark all run
 * this path.
 */
export function serviceBundle(service: string): string {
  return `dist/bundle/${service}/main.js`;
}
