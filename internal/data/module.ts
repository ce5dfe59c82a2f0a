import { ContainerModule } from "inversify";
import type { ServiceIdentifier } from "inversify";
import { createCache } from "kratos-ts/cache";
import { GreetingRepoToken } from "../biz/greeting.js";
import type { GreetingRepo } from "../biz/greeting.js";
import type { Logger } from "kratos-ts/log";
import type { Bootstrap } from "../conf/conf_pb.js";
import { BootstrapToken, DataRedisToken, LoggerToken } from "../conf/tokens.js";
import type { DataRedis } from "../conf/tokens.js";
import { CachedGreetingRepo, greetingCodec } from "./cached-greeting-repo.js";
import type { Data } from "./data.js";
import { openData } from "./data.js";
import { SqliteGreetingRepo } from "./greeting-repo.js";

/** The injection token of the data layer's resources. */
export const DataToken: ServiceIdentifier<Data> = Symbol.for("data.Data");

/**
 * The data layer: the database (opened on first use, closed when the container unbinds it, which
 * cmd/server does after the app stops) and the repository implementations of biz; with
 * `data.redis` set, greetings are read through a Redis cache (cached-greeting-repo.ts).
 */
export const dataModule = new ContainerModule(({ bind }) => {
  bind<Data>(DataToken)
    .toResolvedValue(
      (bc: Bootstrap, log: Logger) => openData(bc.data?.database, log),
      [BootstrapToken, LoggerToken],
    )
    .inSingletonScope()
    .onDeactivation((data) => data.close());
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
