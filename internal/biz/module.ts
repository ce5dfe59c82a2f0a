import { ContainerModule } from "inversify";
import { GreeterUsecase } from "./greeting.js";

/** The biz layer: use cases (the repositories they need come from the data layer). */
export const bizModule = new ContainerModule(({ bind }) => {
  bind(GreeterUsecase).toSelf().inSingletonScope();
});
