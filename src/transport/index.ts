/**
 * The transport seams: servers, the Transporter every call carries, and its headers.
 *
 * @module
 */
export {
  clientTransport,
  requestSchema,
  serverTransport,
  setClientTransport,
  setRequestSchema,
  setServerTransport,
} from "./transport.js";
export type { Kind, Server, Transporter } from "./transport.js";
export type { CorsDefaults, CorsOptions } from "./cors.js";
export { NodeHeader } from "./header.js";
export { resolverFor } from "./resolver.js";
export { avoidHost, callTraits, idempotentMethod, setCallTraits } from "./retry-hints.js";
export type { CallTraits } from "./retry-hints.js";
export { routedNodes, routeNodes } from "./route-hint.js";
export type { Resolver } from "./resolver.js";
export type { Header } from "./header.js";
