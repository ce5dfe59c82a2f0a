import { ContainerModule } from "inversify";
import type { ServiceIdentifier } from "inversify";
import { GreetingRepoToken } from "../biz/greeting.js";
import type { GreetingRepo } from "../biz/greeting.js";
import type { Logger } from "kratos-ts/log";
import type { Bootstrap } from "../conf/conf_pb.js";
import { BootstrapToken, LoggerToken } from "../conf/tokens.js";
import type { Data } from "./data.js";
import { openData } from "./data.js";
import { SqliteGreetingRepo } from "./greeting-repo.js";

/** The injection token of the data layer's resources. */
export const DataToken: ServiceIdentifier<Data> = Symbol.for("data.Data");

/**
 * The data layer: the database (opened on first use, closed when the container unbinds it, which
 * cmd/server does after the app stops) and the repository implementations of biz.
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
    .toResolvedValue((data: Data) => new SqliteGreetingRepo(data), [DataToken])
    .inSingletonScope();
});
