import { ContainerModule } from "inversify";
import type { ServiceIdentifier } from "inversify";
import type { Broker } from "kratos-ts/broker";
import { createCache } from "kratos-ts/cache";
import { GreetingEventsToken, GreetingRepoToken } from "../biz/greeting.js";
import type { GreetingEvents, GreetingRepo } from "../biz/greeting.js";
import type { Logger } from "kratos-ts/log";
import type { Bootstrap } from "../conf/conf_pb.js";
import { BootstrapToken, DataRedisToken, LoggerToken } from "../conf/tokens.js";
import type { DataRedis } from "../conf/tokens.js";
import { CachedGreetingRepo, greetingCodec } from "./cached-greeting-repo.js";
import type { Data } from "./data.js";
import { openData } from "./data.js";
import { greetingEvents, openBroker } from "./events.js";
import { SqliteGreetingRepo } from "./greeting-repo.js";

/** The injection token of the data layer's resources. */
export const DataToken: ServiceIdentifier<Data> = Symbol.for("data.Data");

/** The injection token of the broker of `data.nats` (undefined when it is not set). */
export const BrokerToken: ServiceIdentifier<Broker | undefined> = Symbol.for("data.Broker");

/**
 * The data layer: the database (opened on first use, closed when the container unbinds it, which
 * cmd/server does after the app stops), the broker of `data.nats` (closed the same way, so the
 * HTTP and gRPC handlers can publish until their servers have stopped) and the repository and
 * event implementations of biz; with `data.redis` set, greetings are read through a Redis cache
 * (cached-greeting-repo.ts).
 */
export const dataModule = new ContainerModule(({ bind }) => {
  bind<Data>(DataToken)
    .toResolvedValue(
      (bc: Bootstrap, log: Logger) => openData(bc.data?.database, log),
      [BootstrapToken, LoggerToken],
    )
    .inSingletonScope()
    .onDeactivation((data) => data.close());
  bind<Broker | undefined>(BrokerToken)
    .toResolvedValue(
      (bc: Bootstrap, log: Logger) => openBroker(bc.data?.nats, log),
      [BootstrapToken, LoggerToken],
    )
    .inSingletonScope()
    .onDeactivation((broker) => broker?.close());
  bind<GreetingEvents>(GreetingEventsToken)
    .toResolvedValue((broker: Broker | undefined) => greetingEvents(broker), [BrokerToken])
    .inSingletonScope();
  bind<GreetingRepo>(GreetingRepoToken)
    .toResolvedValue(
      (data: Data, redis: DataRedis, log: Logger) => {
        const repo = new SqliteGreetingRepo(data);
        if (redis.client === undefined) return repo;
        const cache = createCache({
          redis: redis.client,
          name: "greetings",
          prefix: "helloworld:",
          codec: greetingCodec,
          timeout: redis.timeout,
          logger: log.child({ module: "data/cache" }),
        });
        return new CachedGreetingRepo(repo, cache);
      },
      [DataToken, DataRedisToken, LoggerToken],
    )
    .inSingletonScope()
    .onDeactivation((repo) => {
      if (repo instanceof CachedGreetingRepo) repo.close();
    });
});
