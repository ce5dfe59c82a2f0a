import { ContainerModule } from "inversify";
import type { ServiceIdentifier } from "inversify";
import type { ServedService } from "./serve.js";
import { services } from "./services.js";

/** The injection token of the served services, in the order of `services`. */
export const ServicesToken: ServiceIdentifier<readonly ServedService[]> =
  Symbol.for("service.Services");

/**
 * The service layer: implementations of the API. Every class of `services` is bound to itself
 * (so tests and other layers can get it), and the server layer registers them all.
 */
export const serviceModule = new ContainerModule(({ bind }) => {
  for (const entry of services) bind(entry.impl).toSelf().inSingletonScope();
  bind(ServicesToken)
    .toDynamicValue((ctx) => services.map((entry) => entry.resolve((impl) => ctx.get(impl))))
    .inSingletonScope();
});
