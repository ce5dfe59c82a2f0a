// `npm run bench:cache`: the cache's hit path (`getOrLoad` on a hot key, decoded by the JSON
// codec, counted by the SDK's counters) against a raw ioredis GET of the same key, on the same
// client and the same redis-server: one call at a time, then with calls in flight. With calls
// in flight on one hot key, single flight lets concurrent calls share one GET, so the
// distinct-keys row (one hot key per worker, nothing shared) is the like-for-like figure.
//
// Options: --calls=<n> per round (default 20000), --rounds=<n> (default 5; medians are
// reported), --concurrency=<n> (default 32), --url=redis://... (default: a redis-server of
// its own on a free loopback port, as the tests start it).
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import type { Redis } from "ioredis";
import { createCache } from "../src/cache/cache.js";
import type { Cache } from "../src/cache/cache.js";
import { createRedisClient } from "../src/internal/redis-client.js";
import { startTelemetry } from "../src/telemetry/telemetry.js";
import { startRedis } from "../test/helpers/redis.js";

const { values: args } = parseArgs({
  options: {
    calls: { type: "string", default: "20000" },
    rounds: { type: "string", default: "5" },
    concurrency: { type: "string", default: "32" },
    url: { type: "string" },
  },
});
const calls = Number(args.calls);
const rounds = Number(args.rounds);
const concurrency = Number(args.concurrency);

interface Value {
  id: string;
  name: string;
  message: string;
  createTime: number;
}
const value: Value = { id: "1", name: "kratos", message: "Hello kratos", createTime: 1.7e12 };
const prefix = "bench:";

/**
 * Calls per second of `call(worker)` run `calls` times by `workers` loops in parallel, and this
 * process's CPU time per call in us (steadier than the rate on a shared machine: the time other
 * processes take from this one does not count).
 */
async function rate(
  workers: number,
  call: (worker: number) => Promise<unknown>,
): Promise<{ perSecond: number; cpuUs: number }> {
  const each = Math.ceil(calls / workers);
  const cpu = process.cpuUsage();
  const start = performance.now();
  await Promise.all(
    Array.from({ length: workers }, async (_, w) => {
      for (let i = 0; i < each; i++) await call(w);
    }),
  );
  const used = process.cpuUsage(cpu);
  const n = each * workers;
  return {
    perSecond: n / ((performance.now() - start) / 1000),
    cpuUs: (used.user + used.system) / n,
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
}

async function main(): Promise<void> {
  const server = args.url === undefined ? await startRedis() : undefined;
  const url = args.url ?? server?.url ?? "";
  const telemetry = startTelemetry({ serviceName: "bench" });
  const client: Redis = createRedisClient({ url, commandTimeout: 5000 });
  await new Promise<void>((resolve, reject) => {
    client.once("ready", resolve);
    client.once("error", reject);
  });
  const cache: Cache<Value> = createCache<Value>({ redis: client, prefix, timeout: 5000 });
  const loader = () => Promise.resolve(value);
  // What a hand-written cache-aside hit does: GET, then decode (the cache's entry has one tag byte).
  const rawDecoded = (key: string) =>
    client
      .getBuffer(prefix + key)
      .then((b) => JSON.parse((b ?? Buffer.from(" null")).toString("utf8", 1)) as Value);
  const keys = Array.from({ length: concurrency }, (_, i) => `hot${i}`);
  // Fill every key once (a miss and a load each); from here on every call is a hit.
  for (const key of keys) await cache.getOrLoad(key, loader);

  const cases: [string, number, Record<string, (w: number) => Promise<unknown>>][] = [
    [
      "1 in flight",
      1,
      {
        raw: () => client.get(`${prefix}hot0`),
        decoded: () => rawDecoded("hot0"),
        cache: () => cache.getOrLoad("hot0", loader),
      },
    ],
    [
      `${concurrency} in flight, distinct hot keys`,
      concurrency,
      {
        raw: (w) => client.get(prefix + (keys[w] ?? "")),
        decoded: (w) => rawDecoded(keys[w] ?? ""),
        cache: (w) => cache.getOrLoad(keys[w] ?? "", loader),
      },
    ],
    [
      `${concurrency} in flight, one hot key`,
      concurrency,
      {
        raw: () => client.get(`${prefix}hot0`),
        decoded: () => rawDecoded("hot0"),
        cache: () => cache.getOrLoad("hot0", loader),
      },
    ],
  ];
  process.stdout.write(
    `calls=${calls} rounds=${rounds}; medians, the three paths in turn, starting from a different one each round\n` +
      "raw: GET (a string, not decoded); raw+decode: GET and JSON.parse; cache: getOrLoad hit\n\n",
  );
  process.stdout.write(
    "| case | raw calls/s | raw+decode calls/s | cache calls/s | cache / raw (range) | cache / raw+decode | CPU us/call raw, raw+decode, cache |\n",
  );
  process.stdout.write("| --- | ---: | ---: | ---: | --- | --- | --- |\n");
  for (const [name, workers, paths] of cases) {
    const names = Object.keys(paths);
    const results = new Map<string, { perSecond: number[]; cpuUs: number[] }>(
      names.map((n) => [n, { perSecond: [], cpuUs: [] }]),
    );
    const ratios: number[] = [];
    const decodedRatios: number[] = [];
    for (const n of names) await rate(workers, paths[n] ?? loader); // warm-up
    for (let r = 0; r < rounds; r++) {
      const round = new Map<string, number>();
      for (let i = 0; i < names.length; i++) {
        const n = names[(i + r) % names.length] ?? "";
        const result = await rate(workers, paths[n] ?? loader);
        results.get(n)?.perSecond.push(result.perSecond);
        results.get(n)?.cpuUs.push(result.cpuUs);
        round.set(n, result.perSecond);
      }
      ratios.push((round.get("cache") ?? 0) / (round.get("raw") ?? 1));
      decodedRatios.push((round.get("cache") ?? 0) / (round.get("decoded") ?? 1));
    }
    const rateOf = (n: string) => median(results.get(n)?.perSecond ?? []).toFixed(0);
    const cpuOf = (n: string) => median(results.get(n)?.cpuUs ?? []).toFixed(1);
    const lo = Math.min(...ratios).toFixed(2);
    const hi = Math.max(...ratios).toFixed(2);
    process.stdout.write(
      `| ${name} | ${rateOf("raw")} | ${rateOf("decoded")} | ${rateOf("cache")} | ${median(ratios).toFixed(2)}x (${lo}-${hi}) | ${median(decodedRatios).toFixed(2)}x | ${cpuOf("raw")}, ${cpuOf("decoded")}, ${cpuOf("cache")} |\n`,
    );
  }
  cache.close();
  await client.quit();
  await telemetry.shutdown();
  await server?.close();
}

await main();
