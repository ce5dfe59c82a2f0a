import http from "node:http";
import type { IncomingMessage, ServerResponse } from "node:http";
import https from "node:https";
import { timeoutCheckInterval } from "../http1/connections.js";
import { defaults } from "./server-api.js";
import type { HttpServerOptions } from "./server-api.js";

/**
 * The node server under an HTTP server: HTTP/1.1, or HTTPS with `tls`, with the header,
 * request and keep-alive times and the connection cap of `options` (node's defaults are far
 * looser: a 300 s request time, a 120 s TLS handshake, no cap).
 */
export function createNodeServer(
  options: HttpServerOptions,
  listener: (req: IncomingMessage, res: ServerResponse) => void,
): http.Server {
  const timeouts = {
    headersTimeout: options.headersTimeout ?? defaults.headersTimeout,
    requestTimeout: options.requestTimeout ?? defaults.requestTimeout,
  };
  const serverOptions: http.ServerOptions = {
    ...timeouts,
    keepAliveTimeout: options.keepAliveTimeout ?? defaults.keepAliveTimeout,
    connectionsCheckingInterval: timeoutCheckInterval(timeouts),
  };
  const server =
    options.tls === undefined
      ? http.createServer(serverOptions, listener)
      : // The TLS handshake gets the header time too.
        https.createServer(
          { ...serverOptions, handshakeTimeout: timeouts.headersTimeout, ...options.tls },
          listener,
        );
  const maxConnections = options.maxConnections ?? defaults.maxConnections;
  if (maxConnections > 0) server.maxConnections = maxConnections;
  return server;
}
