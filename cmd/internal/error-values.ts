// The error enums of a proto file and the codes of their values, read and checked once for
// protoc-gen-kratos-errors (which writes helpers for them) and protoc-gen-kratos-openapi (which
// lists their reasons), so the two never disagree on which values are errors.
import { getOption, hasOption } from "@bufbuild/protobuf";
import type { DescEnum, DescEnumValue, DescFile } from "@bufbuild/protobuf";
import { nestedTypes } from "@bufbuild/protobuf/reflect";
import { EnumDescriptorProtoSchema, EnumValueDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import {
  code as codeOption,
  default_code as defaultCodeOption,
} from "../../src/gen/errors/errors_pb.js";
import { GeneratorError } from "./source-location.js";

/** An enum value that is an error: its reason is the value's name. */
export interface ErrorValue {
  value: DescEnumValue;
  /** The HTTP code: the value's `(errors.code)`, else its enum's `(errors.default_code)`. */
  code: number;
}

/** The error values of every enum in a file, nested ones included; checks every code. */
export function fileErrorValues(file: DescFile): ErrorValue[] {
  return Array.from(nestedTypes(file))
    .filter((t): t is DescEnum => t.kind === "enum")
    .flatMap(errorValues);
}

/** The error values of one enum, with their codes; checks every code. */
function errorValues(desc: DescEnum): ErrorValue[] {
  let defaultCode: number | undefined;
  if (hasOption(desc, defaultCodeOption)) {
    defaultCode = getOption(desc, defaultCodeOption);
    checkCode(desc, defaultCode, "(errors.default_code)", [
      EnumDescriptorProtoSchema.field.options.number,
      defaultCodeOption.number,
    ]);
  }
  const result: ErrorValue[] = [];
  for (const value of desc.values) {
    let code = defaultCode;
    if (hasOption(value, codeOption)) {
      code = getOption(value, codeOption);
      checkCode(value, code, "(errors.code)", [
        EnumValueDescriptorProtoSchema.field.options.number,
        codeOption.number,
      ]);
    }
    if (code !== undefined) result.push({ value, code });
  }
  return result;
}

function checkCode(
  desc: DescEnum | DescEnumValue,
  code: number,
  option: string,
  optionPath: number[],
): void {
  if (code < 100 || code > 599) {
    const what =
      desc.kind === "enum"
        ? `enum ${desc.typeName}`
        : `enum value ${desc.parent.typeName}.${desc.name}`;
    throw new GeneratorError(
      desc,
      `${what}: ${option} = ${code} is not an HTTP status code (100..599)`,
      optionPath,
    );
  }
}
