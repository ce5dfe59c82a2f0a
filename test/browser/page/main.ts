// The page of the browser test (greeter.test.ts), bundled by esbuild for the browser. It calls
// the layout's Greeter from another origin four ways: connect-web's Connect JSON, Connect binary
// and gRPC-Web transports against the gRPC port, and the generated HTTP client on kratos-ts's
// fetch client against the HTTP port. It renders what came back as text and sets
// `data-done` on <body> when all calls have settled.
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-web";
import { fromError, KratosError } from "kratos-ts/errors";
import { ErrorInfoSchema } from "kratos-ts/gen/google/rpc/error_details_pb.js";
import { createFetchHttpClient } from "kratos-ts/transport/http/fetch";
import { isGreetingNotFound } from "../../../api/helloworld/v1/error_reason_errors.js";
import { createGreeterHTTPClient } from "../../../api/helloworld/v1/greeter_http.js";
import { Greeter } from "../../../api/helloworld/v1/greeter_pb.js";
import type { Greeting, HelloReply } from "../../../api/helloworld/v1/greeter_pb.js";
import type { PathResult } from "../page-result.js";

/** The methods each path calls, whatever carries them. */
interface GreeterCalls {
  sayHello(name: string): Promise<HelloReply>;
  getGreeting(id: bigint): Promise<Greeting>;
}

// Each call gives up after this long, so a broken path fails the test quickly instead of hanging.
const timeoutMs = 5000;

/** Where the page calls, from its query: `?http=...&grpc=...&id=...&missing=...`. */
interface Targets {
  http: string;
  grpc: string;
  storedId: bigint;
  missingId: bigint;
}

function targets(): Targets {
  const query = new URL(location.href).searchParams;
  const required = (name: string): string => {
    const value = query.get(name);
    if (value === null) throw new Error(`the page needs ?${name}=`);
    return value;
  };
  return {
    http: required("http"),
    grpc: required("grpc"),
    storedId: BigInt(required("id")),
    missingId: BigInt(required("missing")),
  };
}

function connectPath(transport: ReturnType<typeof createConnectTransport>): GreeterCalls {
  const client = createClient(Greeter, transport);
  return {
    sayHello: (name) => client.sayHello({ name }, { timeoutMs }),
    getGreeting: (id) => client.getGreeting({ id }, { timeoutMs }),
  };
}

function httpPath(endpoint: string): GreeterCalls {
  const client = createGreeterHTTPClient(createFetchHttpClient({ endpoint, timeout: timeoutMs }));
  return {
    sayHello: (name) => client.sayHello({ name }),
    getGreeting: (id) => client.getGreeting({ id }),
  };
}

function paths(t: Targets): Record<string, GreeterCalls> {
  return {
    "connect-json": connectPath(createConnectTransport({ baseUrl: t.grpc })),
    "connect-binary": connectPath(
      createConnectTransport({ baseUrl: t.grpc, useBinaryFormat: true }),
    ),
    "grpc-web": connectPath(createGrpcWebTransport({ baseUrl: t.grpc })),
    "http-fetch": httpPath(t.http),
  };
}

async function run(path: string, calls: GreeterCalls, t: Targets): Promise<PathResult> {
  const hello = await calls.sayHello("browser");
  const greeting = await calls.getGreeting(t.storedId);
  let error: unknown;
  try {
    await calls.getGreeting(t.missingId);
  } catch (err) {
    error = err;
  }
  if (error === undefined) throw new Error(`GetGreeting(${t.missingId}) did not fail`);
  return { path, hello: hello.message, greeting: greeting.message, error: describeError(error) };
}

function describeError(err: unknown): PathResult["error"] {
  const kratos = fromError(err);
  const connect = err instanceof ConnectError ? err : undefined;
  return {
    type:
      err instanceof KratosError ? "KratosError" : connect !== undefined ? "ConnectError" : "other",
    connectCode: connect === undefined ? "" : codeName(connect.code),
    errorInfoReason: connect?.findDetails(ErrorInfoSchema)[0]?.reason ?? "",
    code: kratos.code,
    reason: kratos.reason,
    isGreetingNotFound: isGreetingNotFound(err),
  };
}

/** Connect's wire name of a code: `not_found`. */
function codeName(code: Code): string {
  return Code[code].replace(/[A-Z]/g, (c, i: number) => (i === 0 ? "" : "_") + c.toLowerCase());
}

function render(results: readonly PathResult[], failure: string | undefined): void {
  const rows = document.getElementById("rows");
  for (const r of results) {
    const tr = document.createElement("tr");
    const unknown = `${r.error.type} ${r.error.connectCode} ${r.error.code} ${r.error.reason}`;
    for (const text of [r.path, r.hello, r.greeting, unknown]) {
      const td = document.createElement("td");
      td.textContent = text;
      tr.append(td);
    }
    rows?.append(tr);
  }
  const json = document.getElementById("json");
  if (json !== null) json.textContent = JSON.stringify({ results, failure }, null, 2);
  // The marker the test waits for: set last, after the text is in place.
  document.body.dataset["done"] = failure === undefined ? "ok" : "failed";
}

async function main(): Promise<void> {
  const results: PathResult[] = [];
  let failure: string | undefined;
  let path = "setup";
  try {
    const t = targets();
    // One path after another: a failure names its path, and the server sees one call at a time.
    for (const [name, calls] of Object.entries(paths(t))) {
      path = name;
      results.push(await run(name, calls, t));
    }
  } catch (err) {
    failure = `${path}: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`;
  }
  render(results, failure);
}

void main();
