// A client of the helloworld service (`npm run client`): finds every instance through the etcd
// registry of the config (`registry.etcd`), calls SayHello over gRPC on
// `discovery:///helloworld`, and prints which instance answered each call, so you can watch
// the selector spread calls over the instances you started.
import { parseArgs } from "node:util";
import { createConfig, envSource, fileSource, followLive } from "kratos-ts/config";
import type { Config } from "kratos-ts/config";
import { createLogger } from "kratos-ts/log";
import { createEtcdRegistry, discoveryResolver } from "kratos-ts/registry";
import { createGrpcClient } from "kratos-ts/transport/grpc";
import { circuitBreaker, liveSreBreaker } from "kratos-ts/middleware";
import type { Middleware } from "kratos-ts/middleware";
import { balancerNames, isBalancerName, liveBalancer } from "kratos-ts/selector";
import type { BalancerName } from "kratos-ts/selector";
import { clientTransport } from "kratos-ts/transport";
import { Greeter } from "../../api/helloworld/v1/greeter_pb.js";
import { BootstrapSchema } from "../../internal/conf/conf_pb.js";
import { durationMs } from "../../internal/server/conf.js";
import { breakerParser, parseBalancer } from "./live.js";

const usage =
  "usage: helloworld-client [-conf <file|dir>] [-n <calls>] [-name <name>] [-balancer p2c|wrr|random]";

interface Flags {
  conf: string;
  calls: number;
  name: string;
  /** Set: fixed for the run; unset: `client.balancer` of the config, followed live. */
  balancer: BalancerName | undefined;
}

/** Go-style flags (`-conf x`, as the server takes them) through node:util's parser. */
function parseFlags(args: readonly string[]): Flags | undefined {
  const { values } = parseArgs({
    args: args.map((arg) => (/^-[a-z]{2,}/.test(arg) ? `-${arg}` : arg)),
    options: {
      conf: { type: "string", default: "./configs" },
      n: { type: "string", default: "6" },
      name: { type: "string", default: "kratos" },
      balancer: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
  });
  if (values.help) return undefined;
  const calls = Number(values.n);
  if (!Number.isInteger(calls) || calls < 1) throw new Error(`-n: not a positive integer`);
  const balancer = values.balancer;
  if (balancer !== undefined && !isBalancerName(balancer))
    throw new Error(`-balancer: one of ${balancerNames.join(", ")}`);
  return { conf: values.conf, calls, name: values.name, balancer };
}

async function main(args: readonly string[]): Promise<void> {
  const flags = parseFlags(args);
  if (flags === undefined) {
    process.stdout.write(`${usage}\n`);
    return;
  }
  // The server's config, so both find the same etcd (and HELLOWORLD_ env overrides apply).
  const config = createConfig({
    sources: [fileSource(flags.conf), envSource({ prefix: "HELLOWORLD_" })],
  });
  await config.load();
  try {
    await run(flags, config);
  } finally {
    await config.close();
  }
}

/**
 * The calls, with the balancer and the SRE breaker's settings of `client` followed live: edit
 * the config while it runs (a long `-n`) and the next calls use the new choice.
 */
async function run(flags: Flags, config: Config): Promise<void> {
  const etcd = config.scan(BootstrapSchema).registry?.etcd;
  if (etcd === undefined || etcd.endpoints.length === 0) {
    throw new Error(`registry.etcd.endpoints: not set in ${flags.conf} (the client needs etcd)`);
  }
  const logger = createLogger({ level: "warn" }).child({ module: "config" });
  const balancer = followLive(config, "client.balancer", parseBalancer, { logger });
  const breaker = followLive(config, "client.breaker", breakerParser(config), { logger });
  const registry = createEtcdRegistry({
    endpoints: etcd.endpoints,
    namespace: etcd.namespace || undefined,
    callTimeout: etcd.dialTimeout === undefined ? undefined : durationMs(etcd.dialTimeout),
  });
  // Which instance served a call: the endpoint the client transport went to.
  let served = "";
  const endpoint: Middleware = (next) => async (ctx, req) => {
    const reply = await next(ctx, req);
    served = clientTransport(ctx)?.endpoint ?? "";
    return reply;
  };
  const greeter = createGrpcClient(Greeter, {
    endpoint: "discovery:///helloworld",
    resolver: discoveryResolver({ discovery: registry, scheme: "grpc" }),
    selector: { balancer: liveBalancer(() => flags.balancer ?? balancer.current) },
    middleware: [
      circuitBreaker.client({ breakerFor: () => liveSreBreaker(() => breaker.current) }),
      endpoint,
    ],
    // The first call also waits for the first list of instances.
    timeout: 5_000,
  });
  try {
    for (let i = 0; i < flags.calls; i++) {
      const reply = await greeter.sayHello({ name: flags.name });
      process.stdout.write(`${served} ${reply.message}\n`);
    }
  } finally {
    greeter.close();
    balancer.close();
    breaker.close();
    await registry.close();
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`helloworld-client: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
