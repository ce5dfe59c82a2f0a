/**
 * The HTTP transport: `createHttpServer`, routes from `google.api.http`, content negotiation,
 * and the clients (`createHttpClient` on node:http, `createFetchHttpClient` on fetch).
 *
 * @module
 */
export { createHttpServer } from "./server.js";
export { httpCorsDefaults } from "./cors.js";
export type {
  Filter,
  HttpReply,
  HttpServer,
  HttpServerOptions,
  RawHandler,
  RawHandlerOptions,
} from "./server-api.js";
export type { Negotiated } from "../../encoding/negotiate.js";
export { createHttpClient } from "./client.js";
export type { HttpClientOptions } from "./client.js";
export { createFetchHttpClient } from "./fetch-client.js";
export type { FetchHttpClientOptions } from "./fetch-client.js";
export { httpClientDefaults } from "./client-api.js";
export type {
  ClientRoute,
  HttpClient,
  HttpClientCodec,
  HttpClientCommonOptions,
} from "./client-api.js";
export type { CallOptions } from "../call-options.js";
export { compileRoute, RouteError } from "../../http-rule/compile.js";
export type { CompiledRoute, RouteBinding } from "../../http-rule/compile.js";
export type { HttpRoute } from "./route.js";
export { httpTransport, HttpTransporter, setResponseStatus } from "./transporter.js";
export { parsePathTemplate, PathTemplateError } from "../../http-rule/path-template.js";
export type { PathTemplate, TemplatePart, TemplateSegment } from "../../http-rule/path-template.js";
