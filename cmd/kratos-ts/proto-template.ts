// The CRUD proto `kratos-ts proto add` writes: package from the path, service from the file name.

/** What a proto path says: its package and its service. */
export interface ProtoNames {
  /** `shop.v1` for api/shop/v1/book.proto. */
  pkg: string;
  /** `Book` for book.proto, `BookShelf` for book_shelf.proto. */
  service: string;
  /** The collection path of its URLs: `shop/v1/books`. */
  collection: string;
}

/**
 * Names for a proto path relative to the project (`api/shop/v1/book.proto`) in the buf module
 * rooted at `moduleRoot` (`api`; `.` for a workspace without modules), or why not.
 */
export function protoNames(path: string, moduleRoot = "api"): ProtoNames | { error: string } {
  const normalized = path.replaceAll("\\", "/").replace(/^\.\//, "");
  if (!normalized.endsWith(".proto")) return { error: `${path} is not a .proto file` };
  const parts = normalized.split("/");
  const file = (parts.pop() ?? "").slice(0, -".proto".length);
  // The package is the folders below the module root.
  const rootParts = moduleRoot === "." ? [] : moduleRoot.split("/");
  const inModule = rootParts.every((p, i) => parts[i] === p);
  const dirs = inModule ? parts.slice(rootParts.length) : parts;
  if (dirs.length === 0) {
    const example = [...rootParts, "<name>", "v1", `${file}.proto`].join("/");
    return { error: `${path} needs a package folder (${example})` };
  }
  const ident = /^[a-z][a-z0-9_]*$/;
  for (const d of dirs) {
    if (!ident.test(d)) return { error: `folder "${d}" of ${path} is not a proto package name` };
  }
  if (!ident.test(file)) return { error: `file name "${file}" of ${path} is not lower_snake_case` };
  const service = file
    .split("_")
    .filter((w) => w !== "")
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join("");
  return {
    pkg: dirs.join("."),
    service,
    collection: `${dirs.join("/")}/${file.replaceAll("_", "-")}s`,
  };
}

/** The text of the CRUD template. */
export function protoTemplate(names: ProtoNames): string {
  const { pkg, service: s, collection } = names;
  // Laid out as `buf format` lays them out, so a project's lint passes on the template as it is.
  const rpc = (verb: string, method: string, path: string, body: boolean) =>
    [
      `  rpc ${verb}${s}(${verb}${s}Request) returns (${verb}${s}Reply) {`,
      ...(body
        ? [
            `    option (google.api.http) = {`,
            `      ${method}: "/${path}"`,
            `      body: "*"`,
            `    };`,
          ]
        : [`    option (google.api.http) = {${method}: "/${path}"};`]),
      `  }`,
    ].join("\n");
  const message = (name: string, fields: string[]) =>
    fields.length === 0
      ? `message ${name} {}`
      : `message ${name} {\n${fields.map((f) => `  ${f}\n`).join("")}}`;
  return `syntax = "proto3";

package ${pkg};

import "google/api/annotations.proto";

// The ${s} service.
service ${s} {
${rpc("Create", "post", collection, true)}
${rpc("Update", "put", `${collection}/{id}`, true)}
${rpc("Delete", "delete", `${collection}/{id}`, false)}
${rpc("Get", "get", `${collection}/{id}`, false)}
${rpc("List", "get", collection, false)}
}

${message(`Create${s}Request`, [])}

${message(`Create${s}Reply`, [])}

${message(`Update${s}Request`, ["int64 id = 1;"])}

${message(`Update${s}Reply`, [])}

${message(`Delete${s}Request`, ["int64 id = 1;"])}

${message(`Delete${s}Reply`, [])}

${message(`Get${s}Request`, ["int64 id = 1;"])}

${message(`Get${s}Reply`, [])}

${message(`List${s}Request`, [])}

${message(`List${s}Reply`, [])}
`;
}
