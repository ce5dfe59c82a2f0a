// `npm run bench:http-client`: the two HTTP clients on Node, node:http (createHttpClient) and
// fetch (createFetchHttpClient), calling the generated SayHello of a bare node:http server
// (bench/servers/raw-http.ts, so the server costs little next to the client). The server runs
// pinned to core 0; run this process on core 1 (`taskset -c 1`). Slices of each client
// alternate, so both sides of the ratio are measured seconds apart (see README.md, "Why this
// method").
//
// Options: --calls=<n> per slice (default 20000), --rounds=<n> (default 5; medians reported),
// --concurrency=<n> calls in flight (default 16; 1 measures one call at a time).
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { createGreeterHTTPClient } from "../api/helloworld/v1/greeter_http.js";
import type { GreeterHTTPClient } from "../api/helloworld/v1/greeter_http.js";
import { createHttpClient } from "../src/transport/http/client.js";
import { createFetchHttpClient } from "../src/transport/http/fetch-client.js";

const { values: args } = parseArgs({
  options: {
    calls: { type: "string", default: "20000" },
    rounds: { type: "string", default: "5" },
    concurrency: { type: "string", default: "16" },
  },
});
const calls = Number(args.calls);
const rounds = Number(args.rounds);
const concurrency = Number(args.concurrency);

const serverMain = new URL("servers/raw-http.js", import.meta.url).pathname;
const server = spawn("taskset", ["-c", "0", process.execPath, serverMain], {
  env: { ...process.env, PORT: "0" },
  stdio: ["ignore", "pipe", "inherit"],
});
const port = await new Promise<number>((resolve, reject) => {
  server.once("exit", (code) => {
    reject(new Error(`server exited (${String(code)})`));
  });
  createInterface({ input: server.stdout }).on("line", (line) => {
    const match = /^READY (\d+)$/.exec(line);
    if (match?.[1] !== undefined) resolve(Number(match[1]));
  });
});
const endpoint = `http://127.0.0.1:${port}`;

const transports = {
  "node:http": createHttpClient({ endpoint }),
  fetch: createFetchHttpClient({ endpoint }),
};
const clients: Record<string, GreeterHTTPClient> = {
  "node:http": createGreeterHTTPClient(transports["node:http"]),
  fetch: createGreeterHTTPClient(transports.fetch),
};

/** Calls per second of `calls` SayHello calls, `concurrency` in flight. */
async function slice(client: GreeterHTTPClient): Promise<number> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < calls) {
      next++;
      const reply = await client.sayHello({ name: "kratos" });
      if (reply.message !== "Hello kratos") throw new Error(`bad reply ${reply.message}`);
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  return (calls / (performance.now() - start)) * 1000;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
};

try {
  // Warm-up: one slice each, not counted (JIT, connection pools).
  for (const client of Object.values(clients)) await slice(client);
  const rates: Record<string, number[]> = { "node:http": [], fetch: [] };
  const ratios: number[] = [];
  for (let round = 0; round < rounds; round++) {
    // Odd rounds run fetch first, so neither side always follows the other.
    const order = round % 2 === 0 ? ["node:http", "fetch"] : ["fetch", "node:http"];
    const got: Record<string, number> = {};
    for (const name of order) {
      const client = clients[name];
      if (client === undefined) continue;
      got[name] = await slice(client);
      rates[name]?.push(got[name]);
    }
    ratios.push((got["fetch"] ?? 0) / (got["node:http"] ?? 1));
  }
  for (const [name, xs] of Object.entries(rates)) {
    console.log(`${name.padEnd(9)} ${Math.round(median(xs))} calls/s (median of ${rounds})`);
  }
  const range = `${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)}`;
  console.log(`fetch / node:http: ${median(ratios).toFixed(2)}x (${range})`);
} finally {
  for (const transport of Object.values(transports)) transport.close();
  server.kill();
}
