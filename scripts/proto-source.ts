// Prints a FileDescriptorProto back as .proto source.
//
// @bufbuild/protovalidate ships no validate.proto, only the descriptor embedded in its generated
// code; buf needs source to compile the APIs that import it. The printed file compiles back to the
// same descriptor (a test checks that), without the comments, which the embedded copy dropped.
// Only what proto2/proto3 files can express is supported; editions and groups are refused.
import { getExtension, isFieldSet, ScalarType } from "@bufbuild/protobuf";
import type { DescEnum, DescField, DescMessage, Message, Registry } from "@bufbuild/protobuf";
import { reflect } from "@bufbuild/protobuf/reflect";
import type { ReflectMessage } from "@bufbuild/protobuf/reflect";
import {
  FieldDescriptorProto_Label,
  FieldDescriptorProto_Type,
  FieldDescriptorProtoSchema,
} from "@bufbuild/protobuf/wkt";
import type {
  DescriptorProto,
  EnumDescriptorProto,
  FieldDescriptorProto,
  FileDescriptorProto,
  ServiceDescriptorProto,
} from "@bufbuild/protobuf/wkt";

/** Options for {@link printProtoSource}. */
export interface PrintProtoSourceOptions {
  /** Resolves the custom options (extensions) found in the descriptor's option messages. */
  registry: Registry;
  /** Comment lines written above `syntax`, without the leading `//`. */
  header?: readonly string[];
}

/** Upper bound of field numbers; `extensions 1000 to max` ends here (exclusive). */
const fieldNumberMax = 536870912;

/** Returns the .proto source of `file`. Throws on constructs it cannot print faithfully. */
export function printProtoSource(file: FileDescriptorProto, opts: PrintProtoSourceOptions): string {
  const out = new Printer(opts.registry, file);
  for (const line of opts.header ?? []) out.line(line === "" ? "//" : `// ${line}`);
  if (opts.header?.length) out.line("");
  const syntax = file.syntax === "" ? "proto2" : file.syntax;
  if (syntax !== "proto2" && syntax !== "proto3") {
    throw new Error(`${file.name}: syntax "${syntax}" is not supported`);
  }
  out.line(`syntax = "${syntax}";`);
  out.line("");
  if (file.package !== "") {
    out.line(`package ${file.package};`);
    out.line("");
  }
  if (file.dependency.length > 0) {
    file.dependency.forEach((dep, i) => {
      const kind = file.publicDependency.includes(i)
        ? "public "
        : file.weakDependency.includes(i)
          ? "weak "
          : "";
      out.line(`import ${kind}${quote(dep)};`);
    });
    out.line("");
  }
  const fileOptions = out.optionList(file.options);
  if (fileOptions.length > 0) {
    for (const o of fileOptions) out.line(`option ${o};`);
    out.line("");
  }
  const blocks: (() => void)[] = [
    ...file.messageType.map((m) => () => {
      out.message(m, syntax);
    }),
    ...file.enumType.map((e) => () => {
      out.enum(e);
    }),
    ...file.service.map((s) => () => {
      out.service(s);
    }),
    ...out.extendBlocks(file.extension, syntax),
  ];
  blocks.forEach((print, i) => {
    if (i > 0) out.line("");
    print();
  });
  return out.toString();
}

class Printer {
  readonly #lines: string[] = [];
  #indent = 0;

  constructor(
    readonly registry: Registry,
    readonly file: FileDescriptorProto,
  ) {}

  toString(): string {
    return this.#lines.join("\n") + "\n";
  }

  line(text: string): void {
    this.#lines.push(text === "" ? "" : "  ".repeat(this.#indent) + text);
  }

  block(head: string, body: () => void): void {
    this.line(`${head} {`);
    this.#indent++;
    body();
    this.#indent--;
    this.line("}");
  }

  message(m: DescriptorProto, syntax: string): void {
    this.block(`message ${m.name}`, () => {
      for (const o of this.optionList(m.options)) this.line(`option ${o};`);
      const printedOneofs = new Set<number>();
      for (const f of m.field) {
        const oneof = realOneofIndex(f);
        if (oneof === undefined) {
          this.line(this.field(f, m, syntax, false));
          continue;
        }
        if (printedOneofs.has(oneof)) continue;
        printedOneofs.add(oneof);
        const decl = m.oneofDecl[oneof];
        if (decl === undefined) throw new Error(`${m.name}: oneof index ${oneof} out of range`);
        this.block(`oneof ${decl.name}`, () => {
          for (const o of this.optionList(decl.options)) this.line(`option ${o};`);
          for (const member of m.field) {
            if (realOneofIndex(member) === oneof) this.line(this.field(member, m, syntax, true));
          }
        });
      }
      for (const nested of m.nestedType) {
        if (nested.options?.mapEntry !== true) this.message(nested, syntax);
      }
      for (const e of m.enumType) this.enum(e);
      for (const r of m.extensionRange) {
        const options = this.optionList(r.options);
        const suffix = options.length > 0 ? ` [${options.join(", ")}]` : "";
        this.line(`extensions ${range(r.start, r.end - 1)}${suffix};`);
      }
      for (const r of m.reservedRange) this.line(`reserved ${range(r.start, r.end - 1)};`);
      if (m.reservedName.length > 0) {
        this.line(`reserved ${m.reservedName.map(quote).join(", ")};`);
      }
      for (const print of this.extendBlocks(m.extension, syntax)) print();
    });
  }

  /** A field declaration; `parent` is undefined for extensions. */
  field(
    f: FieldDescriptorProto,
    parent: DescriptorProto | undefined,
    syntax: string,
    inOneof: boolean,
  ): string {
    if (f.type === FieldDescriptorProto_Type.GROUP) {
      throw new Error(`${f.name}: groups are not supported`);
    }
    const options: string[] = [];
    if (isFieldSet(f, FieldDescriptorProtoSchema.field.defaultValue)) {
      options.push(`default = ${this.defaultValue(f)}`);
    }
    if (
      isFieldSet(f, FieldDescriptorProtoSchema.field.jsonName) &&
      f.jsonName !== defaultJsonName(f.name)
    ) {
      options.push(`json_name = ${quote(f.jsonName)}`);
    }
    options.push(...this.optionList(f.options));
    const suffix = options.length > 0 ? ` [${options.join(", ")}]` : "";
    const mapEntry = parent && this.mapEntry(f, parent);
    if (mapEntry !== undefined) {
      const [key, value] = mapEntry.field;
      if (key === undefined || value === undefined) throw new Error(`${f.name}: bad map entry`);
      return `map<${typeName(key)}, ${typeName(value)}> ${f.name} = ${f.number}${suffix};`;
    }
    let label = "";
    if (!inOneof) {
      if (f.label === FieldDescriptorProto_Label.REPEATED) label = "repeated ";
      else if (f.label === FieldDescriptorProto_Label.REQUIRED) label = "required ";
      else if (syntax === "proto2" || f.proto3Optional) label = "optional ";
    }
    return `${label}${typeName(f)} ${f.name} = ${f.number}${suffix};`;
  }

  /** The synthetic `XEntry` message of a map field, or undefined for other fields. */
  mapEntry(f: FieldDescriptorProto, parent: DescriptorProto): DescriptorProto | undefined {
    if (f.type !== FieldDescriptorProto_Type.MESSAGE) return undefined;
    if (f.label !== FieldDescriptorProto_Label.REPEATED) return undefined;
    const simpleName = f.typeName.slice(f.typeName.lastIndexOf(".") + 1);
    const nested = parent.nestedType.find((n) => n.name === simpleName);
    return nested?.options?.mapEntry === true ? nested : undefined;
  }

  defaultValue(f: FieldDescriptorProto): string {
    switch (f.type) {
      case FieldDescriptorProto_Type.STRING:
        return quote(f.defaultValue);
      // protoc stores bytes defaults already C-escaped.
      case FieldDescriptorProto_Type.BYTES:
        return `"${f.defaultValue}"`;
      default:
        return f.defaultValue;
    }
  }

  enum(e: EnumDescriptorProto): void {
    this.block(`enum ${e.name}`, () => {
      for (const o of this.optionList(e.options)) this.line(`option ${o};`);
      for (const v of e.value) {
        const options = this.optionList(v.options);
        const suffix = options.length > 0 ? ` [${options.join(", ")}]` : "";
        this.line(`${v.name} = ${v.number}${suffix};`);
      }
      // Enum reserved ranges are inclusive, unlike message ones.
      for (const r of e.reservedRange) this.line(`reserved ${range(r.start, r.end)};`);
      if (e.reservedName.length > 0) {
        this.line(`reserved ${e.reservedName.map(quote).join(", ")};`);
      }
    });
  }

  service(s: ServiceDescriptorProto): void {
    this.block(`service ${s.name}`, () => {
      for (const o of this.optionList(s.options)) this.line(`option ${o};`);
      for (const m of s.method) {
        const input = `${m.clientStreaming ? "stream " : ""}${m.inputType}`;
        const output = `${m.serverStreaming ? "stream " : ""}${m.outputType}`;
        const head = `rpc ${m.name}(${input}) returns (${output})`;
        const options = this.optionList(m.options);
        if (options.length === 0) {
          this.line(`${head};`);
        } else {
          this.block(head, () => {
            for (const o of options) this.line(`option ${o};`);
          });
        }
      }
    });
  }

  /** One `extend X { ... }` printer per extendee, in first-seen order. */
  extendBlocks(extensions: readonly FieldDescriptorProto[], syntax: string): (() => void)[] {
    const byExtendee = new Map<string, FieldDescriptorProto[]>();
    for (const ext of extensions) {
      const list = byExtendee.get(ext.extendee) ?? [];
      list.push(ext);
      byExtendee.set(ext.extendee, list);
    }
    return [...byExtendee].map(([extendee, fields]) => () => {
      this.block(`extend ${extendee}`, () => {
        for (const f of fields) this.line(this.field(f, undefined, syntax, false));
      });
    });
  }

  /**
   * The options set on an options message, as `name = value` strings: regular fields by name,
   * custom options (extensions, kept as unknown fields) as `(full.name) = value`.
   */
  optionList(options: OptionsMessage | undefined): string[] {
    if (options === undefined) return [];
    const desc = this.registry.getMessage(options.$typeName);
    if (desc === undefined) throw new Error(`unknown options message ${options.$typeName}`);
    const result: string[] = [];
    const r = reflect(desc, options);
    for (const field of desc.fields) {
      if (field.name === "uninterpreted_option" || !r.isSet(field)) continue;
      // json_name lives on the field descriptor; `map_entry` is implied by `map<,>` syntax.
      if (field.name === "map_entry") continue;
      result.push(...this.assignments(field.name, field, r));
    }
    const seen = new Set<number>();
    for (const u of options.$unknown ?? []) {
      if (seen.has(u.no)) continue;
      seen.add(u.no);
      const ext = this.registry.getExtensionFor(desc, u.no);
      if (ext === undefined) {
        throw new Error(`${desc.typeName}: no extension known for field number ${u.no}`);
      }
      const value: unknown = getExtension(options, ext);
      const name = `(${ext.typeName})`;
      if (ext.fieldKind === "list") {
        for (const item of value as unknown[]) result.push(`${name} = ${this.value(ext, item)}`);
      } else {
        result.push(`${name} = ${this.value(ext, value)}`);
      }
    }
    return result;
  }

  /** `name = value` for a set field of an options message (one per element of a list). */
  assignments(name: string, field: DescField, r: ReflectMessage): string[] {
    if (field.fieldKind === "list") {
      const list = r.get(field);
      return Array.from(list, (item) => `${name} = ${this.value(field, item)}`);
    }
    if (field.fieldKind === "map") throw new Error(`${name}: map options are not supported`);
    return [`${name} = ${this.value(field, r.get(field))}`];
  }

  /** A value in protobuf text format (the syntax of option values). */
  value(field: DescField | ExtensionLike, value: unknown): string {
    if (field.message !== undefined) {
      const msg = isReflectMessage(value) ? value : reflect(field.message, value as never);
      return this.aggregate(msg);
    }
    if (field.enum !== undefined) return enumValueName(field.enum, value as number);
    return scalarText(field.scalar, value);
  }

  aggregate(r: ReflectMessage): string {
    if ((r.message.$unknown?.length ?? 0) > 0) {
      throw new Error(`${r.desc.typeName}: unknown fields in an option value cannot be printed`);
    }
    const parts: string[] = [];
    for (const field of r.fields) {
      if (!r.isSet(field)) continue;
      if (field.fieldKind === "list") {
        for (const item of r.get(field)) parts.push(`${field.name}: ${this.value(field, item)}`);
      } else if (field.fieldKind === "map") {
        for (const [k, v] of r.get(field)) {
          const key = scalarText(field.mapKey, k);
          parts.push(`${field.name}: { key: ${key} value: ${this.value(field, v)} }`);
        }
      } else {
        parts.push(`${field.name}: ${this.value(field, r.get(field))}`);
      }
    }
    return parts.length === 0 ? "{}" : `{ ${parts.join(" ")} }`;
  }
}

type OptionsMessage = Message;
type ExtensionLike = {
  message?: DescMessage | undefined;
  enum?: DescEnum | undefined;
  scalar?: ScalarType | undefined;
};

function isReflectMessage(value: unknown): value is ReflectMessage {
  return typeof value === "object" && value !== null && "desc" in value && "fields" in value;
}

/** The oneof a field belongs to, ignoring the synthetic oneofs of proto3 `optional`. */
function realOneofIndex(f: FieldDescriptorProto): number | undefined {
  if (!isFieldSet(f, FieldDescriptorProtoSchema.field.oneofIndex) || f.proto3Optional) {
    return undefined;
  }
  return f.oneofIndex;
}

const scalarNames: Partial<Record<FieldDescriptorProto_Type, string>> = {
  [FieldDescriptorProto_Type.DOUBLE]: "double",
  [FieldDescriptorProto_Type.FLOAT]: "float",
  [FieldDescriptorProto_Type.INT64]: "int64",
  [FieldDescriptorProto_Type.UINT64]: "uint64",
  [FieldDescriptorProto_Type.INT32]: "int32",
  [FieldDescriptorProto_Type.FIXED64]: "fixed64",
  [FieldDescriptorProto_Type.FIXED32]: "fixed32",
  [FieldDescriptorProto_Type.BOOL]: "bool",
  [FieldDescriptorProto_Type.STRING]: "string",
  [FieldDescriptorProto_Type.BYTES]: "bytes",
  [FieldDescriptorProto_Type.UINT32]: "uint32",
  [FieldDescriptorProto_Type.SFIXED32]: "sfixed32",
  [FieldDescriptorProto_Type.SFIXED64]: "sfixed64",
  [FieldDescriptorProto_Type.SINT32]: "sint32",
  [FieldDescriptorProto_Type.SINT64]: "sint64",
};

/** The type as written in a field declaration; references stay fully qualified (leading dot). */
function typeName(f: FieldDescriptorProto): string {
  if (f.type === FieldDescriptorProto_Type.MESSAGE || f.type === FieldDescriptorProto_Type.ENUM) {
    return f.typeName;
  }
  const name = scalarNames[f.type];
  if (name === undefined) throw new Error(`${f.name}: unsupported field type ${f.type}`);
  return name;
}

/** protoc's default JSON name: lowerCamelCase of the field name. */
export function defaultJsonName(name: string): string {
  return name.replace(/_([a-z0-9])?/g, (_m, c: string | undefined) => (c ?? "").toUpperCase());
}

function range(start: number, endInclusive: number): string {
  if (endInclusive === start) return String(start);
  const end = endInclusive === fieldNumberMax - 1 ? "max" : String(endInclusive);
  return `${start} to ${end}`;
}

function enumValueName(desc: DescEnum, value: number): string {
  return desc.values.find((v) => v.number === value)?.name ?? String(value);
}

function scalarText(scalar: ScalarType | undefined, value: unknown): string {
  switch (scalar) {
    case ScalarType.STRING:
      return quote(value as string);
    case ScalarType.BYTES:
      return quoteBytes(value as Uint8Array);
    case ScalarType.BOOL:
      return value === true ? "true" : "false";
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT: {
      const n = value as number;
      if (Number.isNaN(n)) return "nan";
      if (n === Infinity) return "inf";
      if (n === -Infinity) return "-inf";
      return Object.is(n, -0) ? "-0" : String(n);
    }
    case undefined:
      throw new Error("missing scalar type");
    default:
      return String(value);
  }
}

/** A string literal in .proto / text-format syntax (UTF-8 kept, control characters escaped). */
export function quote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const code = ch.codePointAt(0) ?? 0;
    if (ch === '"') out += '\\"';
    else if (ch === "\\") out += "\\\\";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (code < 0x20 || code === 0x7f) out += `\\${code.toString(8).padStart(3, "0")}`;
    else out += ch;
  }
  return out + '"';
}

function quoteBytes(bytes: Uint8Array): string {
  let out = '"';
  for (const b of bytes) {
    if (b === 0x22) out += '\\"';
    else if (b === 0x5c) out += "\\\\";
    else if (b >= 0x20 && b < 0x7f) out += String.fromCharCode(b);
    else out += `\\${b.toString(8).padStart(3, "0")}`;
  }
  return out + '"';
}
