/**
 * The browser-safe HTTP client: {@link createFetchHttpClient} and the types generated
 * `*_http.ts` clients use. Runs wherever `fetch` does (browsers, Deno, Bun, Node); nothing
 * reachable from here imports a node: module or a Node-only package, which
 * test/browser/import-graph.test.ts checks on the build. Import it as
 * `kratos-ts/transport/http/fetch`; errors come from `kratos-ts/errors`, browser-safe too.
 *
 * @module
 */
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
