// CORS on the gRPC port, for browsers calling over Connect and gRPC-Web: the shared policy
// applied to an exchange before the protocol is detected.
import { corsRequest } from "../cors.js";
import type { CorsDefaults, CorsPolicy } from "../cors.js";
import type { Exchange } from "./exchange.js";

/**
 * What the gRPC port allows when its `cors` option leaves a field out: Connect's and gRPC-Web's
 * methods, any request header a preflight asks for (the origin list is the guard; connect-web
 * sends `connect-protocol-version`, `x-grpc-web`, `x-user-agent`, timeouts), and the response
 * headers that carry a gRPC-Web status and Connect's stream and unary metadata, which a page
 * cannot read unless they are exposed (connect-es's `cors.exposedHeaders` and more).
 */
export const grpcCorsDefaults: CorsDefaults = {
  methods: ["POST", "GET"],
  headers: ["*"],
  exposeHeaders: [
    "Grpc-Status",
    "Grpc-Message",
    "Grpc-Status-Details-Bin",
    "Connect-Content-Encoding",
    "Content-Encoding",
  ],
};

/**
 * Applies `policy` to an exchange: "answered" after a 204 to an allowed preflight, "refused"
 * for a preflight whose origin may not call (the caller answers 403), or "serve" after adding
 * the CORS headers to whatever head the protocol sends.
 */
export function applyCors(
  policy: CorsPolicy,
  exchange: Exchange,
): "serve" | "answered" | "refused" {
  const answer = policy(corsRequest(exchange.method, exchange.headers));
  switch (answer.kind) {
    case "none":
      return "serve";
    case "preflight":
      exchange.head(204, answer.headers, { end: true });
      return "answered";
    case "refused": {
      const body = Buffer.from(answer.error.message);
      const headers = { "content-type": "text/plain", "content-length": body.byteLength };
      exchange.head(answer.error.code, headers);
      exchange.end(body);
      return "answered";
    }
    case "serve":
      exchange.addHeaders(answer.headers);
      return "serve";
  }
}
