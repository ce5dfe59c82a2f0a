import type { DescEnumValue, DescFile } from "@bufbuild/protobuf";
import { createEcmaScriptPlugin, getComments } from "@bufbuild/protoplugin";
import type { GeneratedFile, Schema } from "@bufbuild/protoplugin";
import { packageVersion } from "../../src/internal/package-version.js";
import { fileErrorValues } from "../internal/error-values.js";
import type { ErrorValue } from "../internal/error-values.js";
import { GeneratorError } from "../internal/source-location.js";

/**
 * protoc-gen-kratos-errors: for every enum with `(errors.default_code)` or values with
 * `(errors.code)`, writes `<file>_errors.ts` with, per value, `is<Value>(err)` and
 * `error<Value>(message?, metadata?)`, as Kratos's protoc-gen-go-errors does for Go. The file
 * imports protoc-gen-es's `<file>_pb.ts` and registers it for server reflection.
 */
export const protocGenKratosErrors = createEcmaScriptPlugin({
  name: "protoc-gen-kratos-errors",
  version: `v${packageVersion()}`,
  generateTs,
});

/** Where the generated code imports the kit's error type from. */
const kitErrorsModule = "kratos-ts/errors";

/** One error helper pair to emit. */
interface Helper extends ErrorValue {
  name: string;
}

function generateTs(schema: Schema): void {
  for (const file of schema.files) {
    const values = fileErrorValues(file).map((v) => ({ ...v, name: helperName(v.value.name) }));
    if (values.length === 0) continue;
    const seen = new Map<string, DescEnumValue>();
    for (const v of values) {
      const other = seen.get(v.name);
      if (other !== undefined) {
        throw new GeneratorError(
          v.value,
          `error helpers for ${v.value.parent.typeName}.${v.value.name} and ${other.parent.typeName}.${other.name} would both be named ${v.name}`,
        );
      }
      seen.set(v.name, v.value);
    }
    const f = schema.generateFile(`${file.name}_errors.ts`);
    f.preamble(file);
    printRegistration(f, file);
    for (const v of values) printValue(f, v);
  }
}

/** `USER_NOT_FOUND` -> `UserNotFound`; words without lower-case letters are lower-cased first. */
export function helperName(valueName: string): string {
  return valueName
    .split("_")
    .filter((w) => w !== "")
    .map((w) => (/[a-z]/.test(w) ? w : w.toLowerCase()))
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join("");
}

/**
 * Registers the file with the kit on import, so server reflection describes its error enums
 * (Go's reflection finds them as every file linked into the binary).
 */
function printRegistration(f: GeneratedFile, file: DescFile): void {
  const registerErrorFiles = f.import("registerErrorFiles", kitErrorsModule);
  f.print("// Server reflection describes the error enums of this file (see registerErrorFiles).");
  f.print(registerErrorFiles, "(", f.importSchema(file), ");");
  f.print();
}

function printValue(f: GeneratedFile, { value, code, name }: Helper): void {
  const KratosError = f.import("KratosError", kitErrorsModule);
  const fromError = f.import("fromError", kitErrorsModule);
  const reason = value.name;
  const about = `\`${reason}\` (${code}) of enum ${value.parent.typeName}`;
  const comment = getComments(value).leading?.trim() ?? "";
  const commentLines = comment === "" ? [] : ["", ...comment.split("\n")];
  printJsDoc(f, [
    `True when \`err\` is the error ${about}: same reason and code.`,
    ...commentLines,
  ]);
  f.print("export function is", name, "(err: unknown): boolean {");
  f.print("  const e = ", fromError, "(err);");
  f.print("  return e.reason === ", f.string(reason), " && e.code === ", code, ";");
  f.print("}");
  f.print();
  printJsDoc(f, [
    `The error ${about}.`,
    ...commentLines,
    "",
    "@param message - for people; defaults to the reason.",
    "@param metadata - extra context sent to the client.",
  ]);
  f.print("export function error", name, "(");
  f.print("  message = ", f.string(reason), ",");
  f.print("  metadata?: Record<string, string>,");
  f.print("): ", KratosError, " {");
  f.print(
    "  return new ",
    KratosError,
    "(",
    code,
    ", ",
    f.string(reason),
    ", message, { metadata });",
  );
  f.print("}");
  f.print();
}

/** Prints a JSDoc block; proto comments may contain `*\/`, which must not end it early. */
function printJsDoc(f: GeneratedFile, lines: readonly string[]): void {
  f.print("/**");
  for (const line of lines) f.print(` * ${line.replaceAll("*/", "*\\/")}`.trimEnd());
  f.print(" */");
}
