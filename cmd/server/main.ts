// The layout service's entry point (`npm start`). The helloworld service is wired by the
// "layout" issue (app lifecycle, config, DI); until then this says what exists and what is
// missing, and exits cleanly.
import { packageVersion } from "../../src/internal/package-version.js";

process.stdout.write(
  `kratos-ts ${packageVersion()}: the helloworld layout service is not wired yet (app ` +
    "lifecycle, config, logging and DI come next). What exists: the error model, the HTTP and " +
    "gRPC transports with their clients and generators, and the api/helloworld/v1 protos. " +
    "Run `npm test` to check them, `npm run bench` to measure them.\n",
);
