// The layout project `kratos-ts new` stamps out: which parts of a layout source it copies, and
// how a copy is renamed for the new service. Pure functions over paths and text, unit-tested.
import { serviceNodeFlags } from "../../src/internal/node-flags.js";
import { serviceBundle } from "../../src/internal/service-bundle.js";

/**
 * The parts of a layout source (the kratos-ts package itself, or a layout repo with the same
 * shape) that make a project. Folders are copied whole, minus {@link skipped} entries.
 */
export const layoutParts = [
  "api",
  "cmd/server",
  "internal",
  "configs",
  "third_party",
  "test/layout",
  // `npm run build` bundles the service with it; `npm start` runs the bundle.
  "scripts/bundle-service.mjs",
  "buf.yaml",
  "buf.gen.yaml",
  "buf.gen.conf.yaml",
  // The kit's own lint and format rules, so a project's npm test checks what the kit's does.
  "eslint.config.js",
  ".prettierrc.json",
  ".prettierignore",
] as const;

/** The script a project's `npm run build` bundles its service with (one of {@link layoutParts}). */
export const bundleScript = "scripts/bundle-service.mjs";

/**
 * Files of `layout/` at the source root, copied to the project root: the project's README,
 * tsconfig, .gitignore. A layout source without the folder gets the one bundled with kratos-ts.
 */
export const layoutExtras = "layout";

/** Entries never copied: build output, dependencies, local databases. */
export function skipped(relativePath: string): boolean {
  const name = relativePath.split("/").pop() ?? "";
  return (
    name === "node_modules" ||
    name === "dist" ||
    name === ".git" ||
    name.endsWith(".db") ||
    name.endsWith(".db-journal")
  );
}

/**
 * Whether a name can be a service: it becomes the npm package name, the folder under cmd/, the
 * app and registry name, and the env prefix, so lower-case letters, digits and single dashes.
 */
export function checkServiceName(name: string): string | undefined {
  if (name === "") return "the service name is empty";
  if (!/^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/.test(name)) {
    return `invalid service name "${name}": use lower-case letters, digits and dashes, starting with a letter`;
  }
  if (name.length > 64) return `invalid service name "${name}": longer than 64 characters`;
  return undefined;
}

/** The env prefix of a service's config overrides: `user-svc` -> `USER_SVC_`. */
export function envPrefix(name: string): string {
  return name.toUpperCase().replaceAll("-", "_") + "_";
}

/**
 * How the layout names its service. The layout is a working service called `helloworld`, started
 * from `cmd/server`; its first API is `helloworld.v1.Greeter`, which a new project keeps (as in
 * kratos-layout). So the layout writes the two apart, and {@link renameService} tells them apart
 * by that alone, with no list of files or sentences:
 *
 * - the service is `helloworld` as a word of its own (`const name = "helloworld"`, "The
 *   helloworld service", `./data/helloworld.db`, `/configs/helloworld.yaml`), `HELLOWORLD` in
 *   env variables (`HELLOWORLD_SERVER__HTTP__ADDR`) and the folder `cmd/server`;
 * - the API is `helloworld` followed by `.v<N>` or `/` (`helloworld.v1.Greeter`,
 *   `/helloworld.v1.Greeter/SayHello`, `api/helloworld/v1/`, the route `/helloworld/{name}`);
 * - a name inside an identifier (`file_helloworld_v1_greeter`, `cmd/serverless`) is neither.
 *
 * The service name appears only in strings and comments, never as code: `user-svc` would not be
 * an identifier. test/cli/rename.test.ts stamps projects and holds every file to these rules.
 */
const layoutService = {
  /** Lower case, not inside an identifier, not followed by `.v<N>` or `/` (the API). */
  name: /(?<![\w$])helloworld(?![\w$]|\.v\d|\/)/g,
  /** Upper case, as in env variables: `HELLOWORLD_` becomes the new env prefix. */
  constant: /(?<![A-Za-z0-9$])HELLOWORLD(?![A-Za-z0-9$])/g,
  /** The entry point's folder, in paths and imports (`../../cmd/server/wire.js`). */
  entry: /(?<![\w$-])cmd\/server(?![\w$-])/g,
};

/**
 * Renames the layout's service in a path or a text, leaving the example API as it is: see
 * {@link layoutService}. One function for both, so a file named after the service and the
 * imports of it are renamed alike.
 */
export function renameService(text: string, name: string): string {
  return (
    text
      .replace(layoutService.entry, `cmd/${name}`)
      // `HELLOWORLD` -> `USER_SVC`: the env prefix without its trailing `_`.
      .replace(layoutService.constant, envPrefix(name).slice(0, -1))
      .replace(layoutService.name, name)
  );
}

/**
 * Whether a layout path is part of the APIs (`api/`: protos, their generated code, the OpenAPI
 * document). They are copied as they are: their names are the contract with clients, and the
 * generated files must stay what the protos generate.
 */
function isApi(relativePath: string): boolean {
  return relativePath === "api" || relativePath.startsWith("api/");
}

/** Where a layout file lands in the new project: `cmd/server/...` -> `cmd/<name>/...`. */
export function targetPath(relativePath: string, name: string): string {
  return isApi(relativePath) ? relativePath : renameService(relativePath, name);
}

/** Renames the service inside one copied text file; the example API stays. */
export function renameText(relativePath: string, text: string, name: string): string {
  return isApi(relativePath) ? text : renameService(text, name);
}

/**
 * buf.gen.yaml of a project: the kit's own plugins run from the installed package instead of
 * the kit's build folder.
 */
export function projectBufGen(text: string): string {
  return text.replace(
    /local: \[node, dist\/cmd\/(protoc-gen-kratos-[a-z]+)\/main\.js\]/g,
    "local: node_modules/.bin/$1",
  );
}

/** The versions the layout code builds with, taken from the kit's own package.json. */
export interface KitManifest {
  version: string;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
}

// Packages the layout code imports directly (the rest comes with kratos-ts).
// The generated code imports protovalidate's messages (buf.validate rules) directly too.
const layoutDependencies = [
  "@bufbuild/protobuf",
  "@bufbuild/protovalidate",
  "inversify",
  "reflect-metadata",
];
// Tools a project builds, generates, lints and tests with.
const layoutDevDependencies = [
  "@bufbuild/buf",
  "@bufbuild/protoc-gen-es",
  "@eslint/js",
  "@types/node",
  "esbuild",
  "eslint",
  "eslint-config-prettier",
  "node",
  "prettier",
  "typescript",
  "typescript-7",
  "typescript-eslint",
];

/** The Node a project runs on, as its `engines` says: the major of the pinned `node` package. */
export function projectEngines(manifest: KitManifest): string {
  const pinned = manifest.devDependencies["node"] ?? manifest.dependencies["node"];
  const major = /(\d+)/.exec(pinned ?? "")?.[1];
  return major === undefined ? ">=24" : `>=${major}`;
}

/** The package.json of a new project. */
export function projectManifest(name: string, kit: string, manifest: KitManifest): string {
  const pick = (names: readonly string[], from: Record<string, string>) =>
    Object.fromEntries(
      names.flatMap((n) => (from[n] === undefined ? [] : [[n, from[n]] as [string, string]])),
    );
  const json = {
    name,
    version: "0.1.0",
    private: true,
    type: "module",
    description: `The ${name} service, made with kratos-ts.`,
    engines: { node: projectEngines(manifest) },
    scripts: {
      // The compiled tree (dist/cmd, dist/internal...) for tests and `kratos-ts run`, then the
      // bundle `npm start` runs: it starts in about half the time (scripts/bundle-service.mjs).
      build: `node node_modules/typescript-7/bin/tsc -p tsconfig.json && node scripts/bundle-service.mjs ${name}`,
      generate: "buf generate && buf generate --template buf.gen.conf.yaml",
      lint:
        "eslint --max-warnings 0 . && prettier --check . && buf lint && " +
        "buf format -d --exit-code api && buf format -d --exit-code internal",
      format: "prettier --write . && buf format -w api && buf format -w internal",
      test: 'npm run build && npm run lint && node --test "dist/test/**/*.test.js"',
      // exec: the shell gives way to the service, so the SIGTERM or SIGINT npm passes on reaches it.
      start: `npm run build && exec node ${serviceNodeFlags.join(" ")} ${serviceBundle(name)} -conf ./configs`,
    },
    dependencies: {
      "kratos-ts": kit,
      ...pick(layoutDependencies, manifest.dependencies),
    },
    devDependencies: pick(layoutDevDependencies, {
      ...manifest.dependencies,
      ...manifest.devDependencies,
    }),
    allowScripts: { node: true, "@bufbuild/buf": true, esbuild: true, protobufjs: true },
  };
  return JSON.stringify(json, null, 2) + "\n";
}
