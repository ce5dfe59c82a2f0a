// The client settings cmd/client follows live: `client.balancer` and `client.breaker`. Each is
// checked whole; a bad value fails the start with one line naming the file and key, and a bad
// change later is refused with one warning while the last good value stays.
import { ConfigError } from "kratos-ts/config";
import type { Config, Value } from "kratos-ts/config";
import { createSreBreaker } from "kratos-ts/middleware";
import type { SreBreakerSettings } from "kratos-ts/middleware";
import { balancerNames, isBalancerName } from "kratos-ts/selector";
import type { BalancerName } from "kratos-ts/selector";

/** `client.balancer`: p2c (default), wrr or random. */
export function parseBalancer(value: Value): BalancerName {
  const raw = value.raw();
  if (raw === undefined || raw === null || raw === "") return "p2c";
  if (isBalancerName(raw)) return raw;
  throw new ConfigError(`unknown balancer ${JSON.stringify(raw)} (${balancerNames.join(", ")})`, {
    file: value.origin,
    key: value.path,
  });
}

const breakerKeys: Record<string, keyof SreBreakerSettings> = {
  k: "k",
  window: "window",
  buckets: "buckets",
  min_requests: "minRequests",
  minRequests: "minRequests",
};

/**
 * `client.breaker`: the SRE breaker's settings (k, window, buckets, min_requests) read from
 * `config`; unset keys take the kit's defaults. Each change gives a new object, which tells the
 * live breakers to start a new window.
 */
export function breakerParser(config: Config): (value: Value) => SreBreakerSettings {
  return (value) => {
    const raw = value.raw();
    if (raw === undefined || raw === null) return {};
    const settings: SreBreakerSettings = {};
    for (const key of Object.keys(value.map())) {
      const name = breakerKeys[key];
      const child = config.value(`${value.path}.${key}`);
      if (name === undefined)
        throw new ConfigError("unknown key (known: k, window, buckets, min_requests)", {
          file: child.origin,
          key: child.path,
        });
      // The config's typed getters name the file and key on a bad value.
      settings[name] = name === "window" ? child.duration() : child.number();
    }
    try {
      createSreBreaker(settings);
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      throw new ConfigError(why, { file: value.origin, key: value.path });
    }
    return settings;
  };
}
