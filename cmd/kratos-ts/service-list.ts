// The app's list of served services (internal/service/services.ts in the layout), as
// `kratos-ts proto server` extends it: imports after the last import, one entry above the marker.

/** The line above which `proto server` adds entries. */
export const serviceListMarker = "kratos-ts proto server adds services above this line";

/** One service to add: its descriptor, class and optional HTTP registration, with their modules. */
export interface ListedService {
  /** The descriptor's export in the `_pb.js` module: `Book`. */
  descriptor: string;
  pbModule: string;
  /** The class written by proto server: `BookService`. */
  impl: string;
  implModule: string;
  /** `registerBookHTTPServer`, when the service has HTTP routes. */
  httpRegister: string | undefined;
  httpModule: string;
  /** A prefix that makes the names unique when they are taken: `ShopV1`. */
  aliasPrefix: string;
}

/** The new text of the list, or why the entry cannot be added (already there, or no marker). */
export function addToServiceList(
  text: string,
  service: ListedService,
): { text: string } | { skipped: string } {
  const lines = text.split("\n");
  const markerAt = lines.findIndex((l) => l.includes(serviceListMarker));
  if (markerAt < 0) return { skipped: `it has no line "// ${serviceListMarker}"` };
  if (importsFrom(text, service.implModule)) return { skipped: `it already lists ${service.impl}` };
  const imports: string[] = [];
  const local = (name: string, from: string) => {
    const alias = isTaken(text, name) ? `${service.aliasPrefix}${name}` : name;
    imports.push(
      alias === name
        ? `import { ${name} } from "${from}";`
        : `import { ${name} as ${alias} } from "${from}";`,
    );
    return alias;
  };
  const descriptor = local(service.descriptor, service.pbModule);
  const impl = local(service.impl, service.implModule);
  const register =
    service.httpRegister === undefined
      ? undefined
      : local(service.httpRegister, service.httpModule);
  const indent = /^\s*/.exec(lines[markerAt] ?? "")?.[0] ?? "";
  const args = [descriptor, impl, ...(register === undefined ? [] : [register])].join(", ");
  lines.splice(markerAt, 0, `${indent}serve(${args}),`);
  const lastImport = lastImportEnd(lines);
  lines.splice(lastImport + 1, 0, ...imports);
  return { text: lines.join("\n") };
}

function importsFrom(text: string, module: string): boolean {
  return text.includes(`from "${module}";`);
}

function isTaken(text: string, name: string): boolean {
  return new RegExp(`\\b${name}\\b`).test(text);
}

/** The index of the line that ends the last import statement (-1 when there is none). */
function lastImportEnd(lines: string[]): number {
  let end = -1;
  for (let i = 0; i < lines.length; i++) {
    if (!/^import\s/.test(lines[i] ?? "")) continue;
    let j = i;
    while (j < lines.length && !/;\s*$/.test(lines[j] ?? "")) j++;
    end = j;
    i = j;
  }
  return end;
}
