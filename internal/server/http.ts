import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { fromError } from "kratos-ts/errors";
import { createHttpServer } from "kratos-ts/transport/http";
import type { HttpServer } from "kratos-ts/transport/http";
import type { GovernanceStore } from "kratos-ts/governance";
import type { Logger } from "kratos-ts/log";
import type { Telemetry } from "kratos-ts/telemetry";
import type { LiveSettings } from "../conf/tokens.js";
import type { Server_HTTP } from "../conf/conf_pb.js";
import type { ServedService } from "../service/serve.js";
import { corsOptions, listenAddr, timeoutMs } from "./conf.js";
import { layoutMiddleware } from "./middleware.js";

/** api/openapi.yaml, seen from the compiled dist/internal/server/ (services run from dist/). */
const openapiPath = fileURLToPath(new URL("../../../api/openapi.yaml", import.meta.url));

/**
 * The HTTP/JSON server of `server.http`, serving the `google.api.http` routes of every service and the
 * Prometheus metrics at `/metrics`.
 */
export function newHttpServer(
  conf: Server_HTTP | undefined,
  services: readonly ServedService[],
  log: Logger,
  telemetry: Telemetry,
  governance: GovernanceStore,
  live: LiveSettings,
): HttpServer {
  const server = createHttpServer({
    addr: listenAddr("server.http", conf, "0.0.0.0:8000"),
    timeout: timeoutMs(conf?.timeout),
    middleware: layoutMiddleware(log, governance, live),
    cors: corsOptions(conf?.cors, log),
  });
  for (const service of services) service.registerHttp(server);
  if (conf?.openapi === true) {
    // Read once at start: the document is generated with the code (buf.gen.yaml).
    const document = readOpenapi();
    server.handle("GET", "/openapi.yaml", (_req, res) => {
      res.writeHead(200, { "content-type": "application/yaml", "content-length": document.length });
      res.end(document);
    });
  }
  const metrics = telemetry.metricsHandler;
  if (metrics !== undefined) {
    // A plain handler, outside the chain: `auth` is checked here, so with auth on the metrics
    // need a token unless `auth.public` lists /metrics (and `auth.rules` may guard it too).
    server.handle("GET", "/metrics", (req, res) => {
      live.auth.current.check("/metrics", req.headers.authorization).then(
        () => {
          metrics(req, res);
        },
        (err: unknown) => {
          const e = fromError(err);
          const body = JSON.stringify({ code: e.code, reason: e.reason, message: e.message });
          res.writeHead(e.code, {
            "content-type": "application/json",
            ...(e.code === 401 ? { "www-authenticate": "Bearer" } : {}),
          });
          res.end(body);
        },
      );
    });
  }
  return server;
}

/** The generated document; a missing one fails the start with one line naming the setting. */
function readOpenapi(): Buffer {
  try {
    return readFileSync(openapiPath);
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    throw new Error(`server.http.openapi: cannot serve ${openapiPath} (${detail})`, {
      cause: err,
    });
  }
}
