import { ContainerModule } from "inversify";
import { GreeterService } from "./greeter.js";

/** The service layer: implementations of the API, registered on the servers. */
export const serviceModule = new ContainerModule(({ bind }) => {
  bind(GreeterService).toSelf().inSingletonScope();
});
