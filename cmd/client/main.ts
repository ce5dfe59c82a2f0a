// A client of the helloworld service (`npm run client`): finds every instance through the etcd
// registry of the config (`registry.etcd`), calls SayHello over gRPC on
// `discovery:///helloworld`, and prints which instance answered each call, so you can watch
// the selector spread calls over the instances you started. It follows the client-side
// governance rules of the same config (files and `config_source.etcd`, live), so route rules
// send its calls to the instances they name (`-md user=beta` for a rule on `x-md-user`), and
// the `client` section (balancer, SRE breaker settings), live too.
import { parseArgs } from "node:util";
import { followLive } from "kratos-ts/config";
import type { Config } from "kratos-ts/config";
import { followGovernance, governance } from "kratos-ts/governance";
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
import { loadConfig } from "../server/config.js";
import { breakerParser, parseBalancer } from "./live.js";

const usage =
  "usage: helloworld-client [-conf <file|dir>] [-n <calls>] [-name <name>] [-balancer p2c|wrr|random] [-md key=value]...";

interface Flags {
  conf: string;
  calls: number;
  name: string;
  /** Set: fixed for the run; unset: `client.balancer` of the config, followed live. */
  balancer: BalancerName | undefined;
  /** Request metadata, sent as `x-md-<key>` headers (what route rules match on). */
  headers: Record<string, string>;
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
      md: { type: "string", multiple: true, default: [] },
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
  const headers: Record<string, string> = {};
  for (const pair of values.md) {
    const at = pair.indexOf("=");
    if (at < 1) throw new Error(`-md: expected key=value, got "${pair}"`);
    headers[`x-md-${pair.slice(0, at).toLowerCase()}`] = pair.slice(at + 1);
  }
  return { conf: values.conf, calls, name: values.name, balancer, headers };
}

async function main(args: readonly string[]): Promise<void> {
  const flags = parseFlags(args);
  if (flags === undefined) {
    process.stdout.write(`${usage}\n`);
    return;
  }
  // The server's config, so both find the same etcd and follow the same rules (and HELLOWORLD_
  // env overrides apply).
  const config = await loadConfig(flags.conf, "HELLOWORLD_");
  try {
    await run(flags, config);
  } finally {
    await config.close();
  }
}

/**
 * The calls, with the governance rules, the balancer and the SRE breaker's settings followed
 * live: edit the config while it runs (a long `-n`) and the next calls use the new choice.
 */
async function run(flags: Flags, config: Config): Promise<void> {
  const etcd = config.scan(BootstrapSchema).registry?.etcd;
  if (etcd === undefined || etcd.endpoints.length === 0) {
    throw new Error(`registry.etcd.endpoints: not set in ${flags.conf} (the client needs etcd)`);
  }
  // Warnings only, on stderr: stdout is the client's report of the calls.
  const logger = createLogger({ level: "warn", destination: process.stderr });
  const rules = followGovernance(config, { logger: logger.child({ module: "governance" }) });
  const configLogger = logger.child({ module: "config" });
  const balancer = followLive(config, "client.balancer", parseBalancer, { logger: configLogger });
  const breaker = followLive(config, "client.breaker", breakerParser(config), {
    logger: configLogger,
  });
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
      // Governance inside `endpoint`: the endpoint read after the route rules chose the node.
      endpoint,
      governance.client({ store: rules }),
    ],
    // The first call also waits for the first list of instances.
    timeout: 5_000,
  });
  try {
    for (let i = 0; i < flags.calls; i++) {
      const reply = await greeter.sayHello({ name: flags.name }, { headers: flags.headers });
      process.stdout.write(`${served} ${reply.message}\n`);
    }
  } finally {
    greeter.close();
    balancer.close();
    breaker.close();
    await registry.close();
    await rules.close();
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`helloworld-client: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
