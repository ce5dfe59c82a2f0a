// Bundles a compiled service (dist/cmd/<service>/main.js) into dist/bundle/<service>/, which
// `npm start` runs. Usage: node scripts/bundle-service.mjs <service> [more services]
//
// Why: the service's start is dominated by Node resolving, reading and compiling ~1,000 modules
// (the kit, inversify, OpenTelemetry, protobuf-es, yaml...), not by running them. One bundle
// with a few chunks starts in about half the time (bench/README.md, "Cold start").
//
// What it keeps:
// - Lazy imports (`await import(...)`: the etcd client, Redis, NATS, protovalidate's engine,
//   the OTLP exporter) stay in chunks of their own, loaded on first use (code splitting).
// - Every `import.meta.url` of a bundled module still names the module's compiled file (under
//   dist/ or node_modules/), so paths taken from it (the OpenAPI document, the SQLite checkpoint
//   worker, package.json lookups) resolve as in the unbundled build. So dist/ must stay next to
//   the bundle; it does, since the bundle is made from it.
// - Stack traces name the .ts sources under --enable-source-maps: esbuild chains the source maps
//   tsc wrote next to each compiled file.
// - Node's built-ins are loaded with `require` (see builtinsByRequire), and CommonJS packages
//   keep their `__dirname`.
// One difference stays: `await import("a-commonjs-package")` gives only `default` (the
// package's `module.exports`) in a bundle with code splitting, where Node also gives its
// exports by name; code that imports such a package lazily reads both (the kit's NATS client).
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { isBuiltin } from "node:module";
import { dirname, join, relative, resolve, sep } from "node:path";
import { build } from "esbuild";

/**
 * Keeps each bundled module's idea of its own file: `import.meta.url` in an ES module becomes
 * its compiled file's URL seen from the bundle folder (`new URL("../../internal/server/http.js",
 * import.meta.url).href`), `import.meta.filename` / `import.meta.dirname` its path and folder,
 * and a CommonJS module that reads `__dirname` or `__filename` (grpc-js
 * and etcd3 load .proto files next to themselves) gets both, declared at its top. Every output
 * file (entry and chunks) sits directly in `outdir`, so one relative path per module is right
 * wherever esbuild puts it.
 */
function keepModuleUrls(outdir) {
  return {
    name: "keep-module-urls",
    setup(b) {
      b.onLoad({ filter: /\.[cm]?js$/ }, (args) => {
        const text = readFileSync(args.path, "utf8");
        const path = relative(outdir, args.path).split(sep).join("/");
        let contents;
        const commonJs = isCommonJs(args.path);
        if (!commonJs && /\bimport\.meta\.(url|filename|dirname)\b/.test(text)) {
          const file = `__kratosPath.join(__kratosDir, ${JSON.stringify(path)})`;
          const own = {
            url: `new URL(${JSON.stringify(path)}, import.meta.url).href`,
            filename: file,
            dirname: `__kratosPath.dirname(${file})`,
          };
          contents = text.replace(
            /\bimport\.meta\.(url|filename|dirname)\b/g,
            (_, key) => own[key],
          );
        } else if (commonJs && /\b__(dirname|filename)\b/.test(text)) {
          const own =
            `;var __filename = __kratosPath.join(__kratosDir, ${JSON.stringify(path)}), ` +
            "__dirname = __kratosPath.dirname(__filename); ";
          // After a "use strict" directive (it must stay first), on its line: the source map
          // of the file stays right.
          const directive = /^(#!.*\n)?(\s*(["'])use strict\3;?)?/.exec(text)?.[0] ?? "";
          contents = directive + own + text.slice(directive.length);
        } else return undefined;
        return { contents, loader: "js", resolveDir: dirname(args.path) };
      });
    },
  };
}

// Node's rule: .cjs is CommonJS, .mjs an ES module, .js what the nearest package.json's "type"
// says (CommonJS without one).
const typeOfFolder = new Map();
function isCommonJs(file) {
  if (file.endsWith(".cjs")) return true;
  if (file.endsWith(".mjs")) return false;
  return packageType(dirname(file)) !== "module";
}
function packageType(folder) {
  let type = typeOfFolder.get(folder);
  if (type !== undefined) return type;
  try {
    type = JSON.parse(readFileSync(join(folder, "package.json"), "utf8")).type ?? "commonjs";
  } catch {
    const parent = dirname(folder);
    type = parent === folder ? "commonjs" : packageType(parent);
  }
  typeOfFolder.set(folder, type);
  return type;
}

/**
 * Loads Node's built-in modules with `require` instead of `import`. An `import` of a built-in
 * builds an ES module facade that reads every export once, and some exports are lazy getters:
 * `node:http`'s `WebSocket` and friends load undici (~50 ms on this machine) though the service
 * never uses them. `require` hands over the module object as it is; esbuild's interop reads a
 * named import off it when used.
 */
function builtinsByRequire() {
  return {
    name: "builtins-by-require",
    setup(b) {
      b.onResolve({ filter: /^[a-z_:/0-9]+$/ }, (args) => {
        if (!isBuiltin(args.path)) return undefined;
        // A dynamic import stays Node's own: in a split bundle a chunk made from the require
        // below would give the importer only `default`, and `const { request } = await
        // import("node:http")` (the OTLP exporter's) would read undefined.
        if (
          args.kind === "require-call" ||
          args.kind === "dynamic-import" ||
          args.namespace === "builtin"
        ) {
          return { path: args.path, external: true };
        }
        return { path: args.path, namespace: "builtin" };
      });
      b.onLoad({ filter: /.*/, namespace: "builtin" }, (args) => ({
        contents: `module.exports = require(${JSON.stringify(args.path)});`,
        loader: "js",
      }));
    },
  };
}

/** Bundles dist/cmd/<service>/main.js into dist/bundle/<service>/. */
async function bundle(service) {
  const outdir = resolve("dist", "bundle", service);
  rmSync(outdir, { recursive: true, force: true });
  const result = await build({
    entryPoints: { main: join("dist", "cmd", service, "main.js") },
    outdir,
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node24",
    // Package entries as Node picks them ("node", "import"/"require", "default"); no "module",
    // which esbuild adds by default and Node does not know.
    conditions: [],
    sourcemap: "linked",
    // CommonJS packages inside an ES module bundle still find `require` for Node's built-ins,
    // and their `__dirname` / `__filename` (see keepModuleUrls) the bundle's folder.
    banner: {
      js:
        'import { createRequire as __kratosRequire } from "node:module"; ' +
        "const require = __kratosRequire(import.meta.url); " +
        'const __kratosPath = require("node:path"); ' +
        'const __kratosDir = __kratosPath.dirname(require("node:url").fileURLToPath(import.meta.url));',
    },
    logLevel: "warning",
    metafile: process.env.BUNDLE_METAFILE !== undefined,
    plugins: [keepModuleUrls(outdir), builtinsByRequire()],
  });
  // BUNDLE_METAFILE=<file>: esbuild's account of what went into which output (bench/README.md).
  const metafile = process.env.BUNDLE_METAFILE;
  if (metafile !== undefined) writeFileSync(metafile, JSON.stringify(result.metafile));
}

const services = process.argv.slice(2);
if (services.length === 0) {
  process.stderr.write("usage: node scripts/bundle-service.mjs <service> [more services]\n");
  process.exit(2);
}
for (const service of services) await bundle(service);
