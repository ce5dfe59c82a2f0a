// CORS on the HTTP server: the shared policy applied to node's request and response.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { KratosError } from "../../errors/error.js";
import { corsRequest } from "../cors.js";
import type { CorsDefaults, CorsPolicy } from "../cors.js";

/**
 * What the HTTP server allows when its `cors` option leaves a field out: the methods routes
 * use, any request header a preflight asks for (the origin list is the guard), nothing extra
 * exposed (errors travel in the body).
 */
export const httpCorsDefaults: CorsDefaults = {
  methods: ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"],
  headers: ["*"],
  exposeHeaders: [],
};

/**
 * Applies `policy` to a request before routing: adds the response's CORS headers and returns
 * "serve", answers an allowed preflight (204) and returns "answered", or returns the error to
 * answer a preflight whose origin may not call with (403 `ORIGIN_NOT_ALLOWED`).
 */
export function applyCors(
  policy: CorsPolicy,
  req: IncomingMessage,
  res: ServerResponse,
): "serve" | "answered" | KratosError {
  const answer = policy(corsRequest(req.method ?? "GET", req.headers));
  switch (answer.kind) {
    case "none":
      return "serve";
    case "serve":
      for (const [name, value] of Object.entries(answer.headers)) res.setHeader(name, value);
      return "serve";
    case "preflight":
      res.writeHead(204, { ...answer.headers, "content-length": 0 });
      res.end();
      return "answered";
    case "refused":
      return answer.error;
  }
}
