import { create, createRegistry, fromBinary, toBinary } from "@bufbuild/protobuf";
import type { DescFile, DescService, MessageInitShape, Registry } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { errorFiles } from "../../errors/files.js";
import {
  ServerReflection,
  ServerReflectionRequestSchema,
  ServerReflectionResponseSchema,
} from "../../gen/grpc/reflection/v1/reflection_pb.js";
import type { ServerReflectionRequest } from "../../gen/grpc/reflection/v1/reflection_pb.js";
import {
  ServerReflection as ServerReflectionAlpha,
  ServerReflectionRequestSchema as AlphaRequestSchema,
  ServerReflectionResponseSchema as AlphaResponseSchema,
} from "../../gen/grpc/reflection/v1alpha/reflection_pb.js";
import type { ServiceImpl } from "./service.js";

/**
 * The services and files a reflection client can discover: the files of the registered services
 * and every file whose types can appear in errors (google.rpc.ErrorInfo and Status,
 * errors.Status, and the error enums of registerErrorFiles), each with its imports.
 */
export class ReflectionIndex {
  readonly #services = new Map<string, DescService>();
  #files: Map<string, DescFile> | undefined;
  #registry: Registry | undefined;
  // The errorFiles() array #files was built from: a new array means new files.
  #errorFiles: readonly DescFile[] | undefined;

  add(service: DescService): void {
    this.#services.set(service.typeName, service);
    this.#files = undefined;
  }

  serviceNames(): string[] {
    return [...this.#services.keys()].sort();
  }

  /** Every file a client can ask for, with its imports, by file name. */
  files(): Map<string, DescFile> {
    const errors = errorFiles();
    if (this.#files !== undefined && this.#errorFiles === errors) return this.#files;
    const files = new Map<string, DescFile>();
    const visit = (file: DescFile): void => {
      if (files.has(file.proto.name)) return;
      files.set(file.proto.name, file);
      for (const dep of file.dependencies) visit(dep);
    };
    for (const service of this.#services.values()) visit(service.file);
    for (const file of errors) visit(file);
    this.#files = files;
    this.#errorFiles = errors;
    this.#registry = undefined;
    return files;
  }

  registry(): Registry {
    const files = this.files();
    this.#registry ??= createRegistry(...files.values());
    return this.#registry;
  }

  /** The file declaring a symbol: a service, method, message, enum, or extension. */
  fileOfSymbol(symbol: string): DescFile | undefined {
    const registry = this.registry();
    const direct = registry.get(symbol);
    if (direct !== undefined) return direct.file;
    // `pkg.Service.Method` and `pkg.Message.field` name members of a type.
    const owner = registry.get(symbol.slice(0, Math.max(0, symbol.lastIndexOf("."))));
    return owner?.file;
  }
}

/** A FileDescriptorResponse: the file first, then its imports, serialized. */
function fileResponse(file: DescFile): Uint8Array[] {
  const out: Uint8Array[] = [];
  const seen = new Set<string>();
  const visit = (f: DescFile): void => {
    if (seen.has(f.proto.name)) return;
    seen.add(f.proto.name);
    out.push(toBinary(FileDescriptorProtoSchema, f.proto));
    for (const dep of f.dependencies) visit(dep);
  };
  visit(file);
  return out;
}

type Reply = MessageInitShape<typeof ServerReflectionResponseSchema>["messageResponse"];

function notFound(message: string): Reply {
  return { case: "errorResponse", value: { errorCode: 5, errorMessage: message } };
}

/** Answers one reflection request. */
function answer(index: ReflectionIndex, req: ServerReflectionRequest): Reply {
  const request = req.messageRequest;
  switch (request.case) {
    case "listServices":
      return {
        case: "listServicesResponse",
        value: { service: index.serviceNames().map((name) => ({ name })) },
      };
    case "fileByFilename": {
      const file = index.files().get(request.value);
      return file === undefined
        ? notFound(`file "${request.value}" not found`)
        : { case: "fileDescriptorResponse", value: { fileDescriptorProto: fileResponse(file) } };
    }
    case "fileContainingSymbol": {
      const file = index.fileOfSymbol(request.value);
      return file === undefined
        ? notFound(`symbol "${request.value}" not found`)
        : { case: "fileDescriptorResponse", value: { fileDescriptorProto: fileResponse(file) } };
    }
    case "fileContainingExtension": {
      const registry = index.registry();
      const extendee = registry.getMessage(request.value.containingType);
      const ext = extendee && registry.getExtensionFor(extendee, request.value.extensionNumber);
      return ext === undefined
        ? notFound(
            `extension ${request.value.containingType}/${request.value.extensionNumber} not found`,
          )
        : {
            case: "fileDescriptorResponse",
            value: { fileDescriptorProto: fileResponse(ext.file) },
          };
    }
    case "allExtensionNumbersOfType": {
      const registry = index.registry();
      const numbers: number[] = [];
      for (const type of registry) {
        if (type.kind === "extension" && type.extendee.typeName === request.value)
          numbers.push(type.number);
      }
      return registry.getMessage(request.value) === undefined
        ? notFound(`type "${request.value}" not found`)
        : {
            case: "allExtensionNumbersResponse",
            value: { baseTypeName: request.value, extensionNumber: numbers.sort((a, b) => a - b) },
          };
    }
    case undefined:
      return {
        case: "errorResponse",
        value: { errorCode: 3, errorMessage: "empty reflection request" },
      };
  }
}

/** grpc.reflection.v1.ServerReflection over an index. */
export function reflectionService(index: ReflectionIndex): ServiceImpl<typeof ServerReflection> {
  return {
    async *serverReflectionInfo(requests) {
      for await (const req of requests) {
        yield { validHost: req.host, originalRequest: req, messageResponse: answer(index, req) };
      }
    },
  };
}

/**
 * grpc.reflection.v1alpha.ServerReflection, which older tools (grpcurl, grpc_cli) still use. Its
 * messages are wire-identical to v1, so each request is re-read as v1 and each reply written back.
 */
export function reflectionAlphaService(
  index: ReflectionIndex,
): ServiceImpl<typeof ServerReflectionAlpha> {
  return {
    async *serverReflectionInfo(requests) {
      for await (const alpha of requests) {
        const req = fromBinary(ServerReflectionRequestSchema, toBinary(AlphaRequestSchema, alpha));
        const reply = create(ServerReflectionResponseSchema, {
          validHost: req.host,
          originalRequest: req,
          messageResponse: answer(index, req),
        });
        yield fromBinary(AlphaResponseSchema, toBinary(ServerReflectionResponseSchema, reply));
      }
    },
  };
}

export { ServerReflection, ServerReflectionAlpha };
