// The layout service's entry point (`npm start`). The helloworld service is wired by the
// "layout" issue; until then this says what exists and what is missing, and exits cleanly.
import { packageVersion } from "../../src/internal/package-version.js";

process.stdout.write(
  `kratos-ts ${packageVersion()}: the helloworld service is not wired yet (app lifecycle, ` +
    "config, HTTP and gRPC servers come next). What exists: the error model (kratos-ts/errors), " +
    "protoc-gen-kratos-errors and the api/helloworld/v1 protos with their generated code. " +
    "Run `npm test` to check them.\n",
);
