// The layout project `kratos-ts new` stamps out: which parts of a layout source it copies, and
// how a copy is renamed for the new service. Pure functions over paths and text, unit-tested.
import { serviceNodeFlags } from "../../src/internal/node-flags.js";

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
  "buf.yaml",
  "buf.gen.yaml",
  "buf.gen.conf.yaml",
  // The kit's own lint and format rules, so a project's npm test checks what the kit's does.
  "eslint.config.js",
  ".prettierrc.json",
  ".prettierignore",
] as const;

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

/** Where a layout file lands in the new project: `cmd/server/...` -> `cmd/<name>/...`. */
export function targetPath(relativePath: string, name: string): string {
  return relativePath === "cmd/server" || relativePath.startsWith("cmd/server/")
    ? `cmd/${name}` + relativePath.slice("cmd/server".length)
    : relativePath;
}

/**
 * Renames the service inside one copied text file. The example API (`helloworld.v1.Greeter`)
 * stays: it is the service's first API, as in kratos-layout; what changes is the service itself.
 */
export function renameText(relativePath: string, text: string, name: string): string {
  let out = text.replaceAll("cmd/server/", `cmd/${name}/`);
  if (relativePath === "cmd/server/main.ts") {
    out = out
      .replace(/const name = "[^"]*";/, `const name = "${name}";`)
      .replace(/const envPrefix = "[^"]*";/, `const envPrefix = "${envPrefix(name)}";`)
      .replace(/`HELLOWORLD_<KEY>__<KEY>`/, `\`${envPrefix(name)}<KEY>__<KEY>\``);
  }
  if (relativePath === "cmd/server/flags.ts") {
    out = out.replace(/usage: helloworld /, `usage: ${name} `);
  }
  if (relativePath.startsWith("configs/")) {
    out = out.replaceAll("./data/helloworld.db", `./data/${name}.db`);
  }
  return out;
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
      build: "node node_modules/typescript-7/bin/tsc -p tsconfig.json",
      generate: "buf generate && buf generate --template buf.gen.conf.yaml",
      lint:
        "eslint --max-warnings 0 . && prettier --check . && buf lint && " +
        "buf format -d --exit-code api && buf format -d --exit-code internal",
      format: "prettier --write . && buf format -w api && buf format -w internal",
      test: 'npm run build && npm run lint && node --test "dist/test/**/*.test.js"',
      // exec: the shell gives way to the service, so the SIGTERM or SIGINT npm passes on reaches it.
      start: `npm run build && exec node ${serviceNodeFlags.join(" ")} dist/cmd/${name}/main.js -conf ./configs`,
    },
    dependencies: {
      "kratos-ts": kit,
      ...pick(layoutDependencies, manifest.dependencies),
    },
    devDependencies: pick(layoutDevDependencies, {
      ...manifest.dependencies,
      ...manifest.devDependencies,
    }),
    allowScripts: { node: true, "@bufbuild/buf": true, protobufjs: true },
  };
  return JSON.stringify(json, null, 2) + "\n";
}
