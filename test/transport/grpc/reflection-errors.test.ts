// Server reflection describes every type an error can carry: google.rpc.ErrorInfo and Status,
// Kratos's errors.Status, and the API's error enums (whose files the service's proto does not
// import), so tools that resolve through reflection (buf curl, grpcurl) decode error details.
// Checked against the built layout service, with two real clients: @grpc/grpc-js speaking the
// reflection protocol, and buf curl.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { create, createFileRegistry, fromBinary, toBinary, toJson } from "@bufbuild/protobuf";
import type { FileRegistry } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema, FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import type { FileDescriptorProto } from "@bufbuild/protobuf/wkt";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { GetGreetingRequestSchema } from "../../../api/helloworld/v1/greeter_pb.js";
import type { GetGreetingRequest } from "../../../api/helloworld/v1/greeter_pb.js";
import { bin, repoRoot, runAsync, tempDir } from "../../helpers/repo.js";
import { startService, writeLayoutConfig } from "../../helpers/service.js";

interface ReflectionReply {
  fileDescriptorResponse?: { fileDescriptorProto: Buffer[] };
  errorResponse?: { errorCode: number; errorMessage: string };
}

type ReflectionClient = grpc.Client & {
  serverReflectionInfo(): grpc.ClientDuplexStream<object, ReflectionReply>;
};

type ReflectionCtor = new (target: string, creds: grpc.ChannelCredentials) => ReflectionClient;

/** The generated grpc-js client of one reflection version ("v1" or "v1alpha"). */
function reflectionClient(version: "v1" | "v1alpha", target: string): ReflectionClient {
  const def = protoLoader.loadSync(
    join(repoRoot, `third_party/grpc/reflection/${version}/reflection.proto`),
    {},
  );
  const pkg = grpc.loadPackageDefinition(def) as unknown as {
    grpc: { reflection: Record<string, { ServerReflection: ReflectionCtor }> };
  };
  const ctor = pkg.grpc.reflection[version]?.ServerReflection;
  if (ctor === undefined) throw new Error(`no ServerReflection in ${version}`);
  return new ctor(target, grpc.credentials.createInsecure());
}

/** Asks for the file of each symbol, in order, on one stream. */
async function filesContaining(
  client: ReflectionClient,
  symbols: readonly string[],
): Promise<ReflectionReply[]> {
  const call = client.serverReflectionInfo();
  const replies: ReflectionReply[] = [];
  const done = new Promise<void>((resolve, reject) => {
    call.on("data", (r: ReflectionReply) => replies.push(r));
    call.on("end", resolve);
    call.on("error", reject);
  });
  for (const symbol of symbols) call.write({ fileContainingSymbol: symbol });
  call.end();
  await done;
  return replies;
}

/** The files of a FileDescriptorResponse; throws with the server's message on an error reply. */
function filesOf(reply: ReflectionReply | undefined, symbol: string): FileDescriptorProto[] {
  const raw = reply?.fileDescriptorResponse?.fileDescriptorProto;
  if (raw === undefined) {
    throw new Error(`${symbol}: ${reply?.errorResponse?.errorMessage ?? "no reply"}`);
  }
  return raw.map((b) => fromBinary(FileDescriptorProtoSchema, b));
}

/** Whether `file` declares the top-level message or enum `symbol` (a full name). */
function declares(file: FileDescriptorProto, symbol: string): boolean {
  const prefix = file.package === "" ? "" : `${file.package}.`;
  if (!symbol.startsWith(prefix)) return false;
  const name = symbol.slice(prefix.length);
  return (
    file.messageType.some((m) => m.name === name) || file.enumType.some((e) => e.name === name)
  );
}

/** The files in an order where each comes after its imports, as a FileDescriptorSet wants. */
function dependenciesFirst(files: ReadonlyMap<string, FileDescriptorProto>): FileDescriptorProto[] {
  const out: FileDescriptorProto[] = [];
  const seen = new Set<string>();
  const visit = (name: string): void => {
    if (seen.has(name)) return;
    seen.add(name);
    const file = files.get(name);
    if (file === undefined) throw new Error(`reflection sent no ${name}`);
    for (const dep of file.dependency) visit(dep);
    out.push(file);
  };
  for (const name of files.keys()) visit(name);
  return out;
}

// Each symbol, the file that declares it, and a file its answer must bring along (an import).
const errorSymbols: [symbol: string, file: string, dependency: string][] = [
  ["google.rpc.ErrorInfo", "google/rpc/error_details.proto", "google/protobuf/duration.proto"],
  ["google.rpc.Status", "google/rpc/status.proto", "google/protobuf/any.proto"],
  ["errors.Status", "errors/errors.proto", "google/protobuf/descriptor.proto"],
  ["helloworld.v1.ErrorReason", "helloworld/v1/error_reason.proto", "errors/errors.proto"],
];

describe("reflection of error types (layout service)", () => {
  const dir = tempDir("kratos-ts-reflect-");
  let service: Awaited<ReturnType<typeof startService>>;

  before(async () => {
    writeLayoutConfig(dir.path);
    service = await startService(["-conf", join(dir.path, "configs")], dir.path);
  });

  after(async () => {
    if (service.child.exitCode === null) {
      service.child.kill("SIGTERM");
      await service.exited;
    }
    dir.remove();
  });

  for (const version of ["v1", "v1alpha"] as const) {
    it(`resolves the error detail types and the error enum by symbol (${version})`, async () => {
      const client = reflectionClient(version, service.grpc.host);
      try {
        const replies = await filesContaining(
          client,
          errorSymbols.map(([symbol]) => symbol),
        );
        assert.equal(replies.length, errorSymbols.length);
        errorSymbols.forEach(([symbol, name, dependency], i) => {
          const files = filesOf(replies[i], symbol);
          assert.equal(files[0]?.name, name, symbol);
          assert.ok(declares(files[0], symbol), `${name} declares ${symbol}`);
          const names = files.map((f) => f.name);
          assert.ok(names.includes(dependency), `${symbol}: ${names.join(", ")}`);
        });
      } finally {
        client.close();
      }
    });
  }

  it("lets a client decode an error's details with nothing but reflection (as grpcurl)", async () => {
    // The call, by a client that knows the request type only.
    const client = new grpc.Client(service.grpc.host, grpc.credentials.createInsecure());
    const err = await new Promise<grpc.ServiceError>((resolve, reject) => {
      client.makeUnaryRequest(
        "/helloworld.v1.Greeter/GetGreeting",
        (m: GetGreetingRequest) => Buffer.from(toBinary(GetGreetingRequestSchema, m)),
        (b: Buffer) => b,
        create(GetGreetingRequestSchema, { id: 987654n }),
        (e) => {
          if (e === null) reject(new Error("GetGreeting succeeded"));
          else resolve(e);
        },
      );
    });
    client.close();
    assert.equal(err.code, grpc.status.NOT_FOUND);
    const [details] = err.metadata.get("grpc-status-details-bin");
    assert.ok(details instanceof Buffer);
    // Every type it takes to read them, from the server's reflection.
    const reflection = reflectionClient("v1", service.grpc.host);
    let registry: FileRegistry;
    try {
      const symbols = ["google.rpc.Status", "google.rpc.ErrorInfo", "helloworld.v1.ErrorReason"];
      const replies = await filesContaining(reflection, symbols);
      const files = new Map<string, FileDescriptorProto>();
      replies.forEach((r, i) => {
        for (const f of filesOf(r, symbols[i] ?? "")) files.set(f.name, f);
      });
      registry = createFileRegistry(
        create(FileDescriptorSetSchema, { file: dependenciesFirst(files) }),
      );
    } finally {
      reflection.close();
    }
    const statusDesc = registry.getMessage("google.rpc.Status");
    assert.ok(statusDesc);
    const status = toJson(statusDesc, fromBinary(statusDesc, details), { registry }) as {
      code: number;
      details: { "@type": string; reason: string }[];
    };
    assert.equal(status.code, grpc.status.NOT_FOUND);
    assert.deepEqual(status.details, [
      { "@type": "type.googleapis.com/google.rpc.ErrorInfo", reason: "GREETING_NOT_FOUND" },
    ]);
    // The reason names a value of the API's error enum.
    const reasons = registry.getEnum("helloworld.v1.ErrorReason");
    assert.ok(reasons?.values.some((v) => v.name === "GREETING_NOT_FOUND"));
  });

  it("buf curl prints the ErrorInfo of an error decoded", async () => {
    // buf curl's default protocol, Connect, with the schema from reflection. (Over gRPC it
    // prints details as bytes whatever the server: it decodes them only with the types
    // compiled into buf, and google.rpc.ErrorInfo is not one of them.)
    const r = await runAsync(bin("buf"), [
      "curl",
      "--http2-prior-knowledge",
      "-d",
      '{"id":"987654"}',
      `http://${service.grpc.host}/helloworld.v1.Greeter/GetGreeting`,
    ]);
    assert.notEqual(r.status, 0);
    const printed = JSON.parse(r.stderr) as {
      code: string;
      details?: { type: string; debug?: { reason?: string } }[];
    };
    assert.equal(printed.code, "not_found", r.stderr);
    const info = printed.details?.find((d) => d.type === "google.rpc.ErrorInfo");
    assert.ok(info, r.stderr);
    assert.equal(info.debug?.reason, "GREETING_NOT_FOUND", r.stderr);
  });
});
