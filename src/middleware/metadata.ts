import {
  clientMetadata,
  Metadata,
  serverMetadata,
  setServerMetadata,
} from "../metadata/metadata.js";
import { clientTransport, serverTransport } from "../transport/transport.js";
import type { Middleware } from "./middleware.js";

/** Options of {@link metadata.server}. */
export interface MetadataServerOptions {
  /** Request headers kept as metadata, by prefix. Default `["x-md-"]`. */
  prefix?: string[];
  /** Metadata every call starts with. */
  constants?: Record<string, string>;
}

/** Options of {@link metadata.client}. */
export interface MetadataClientOptions {
  /** Server metadata forwarded to the next hop, by prefix. Default `["x-md-global-"]`. */
  prefix?: string[];
  /** Metadata every call sends. */
  constants?: Record<string, string>;
}

function hasPrefix(key: string, prefixes: readonly string[]): boolean {
  return prefixes.some((p) => key.startsWith(p));
}

/**
 * Metadata propagation, as Kratos's `middleware/metadata`: the server keeps `x-md-` request
 * headers as the call's metadata; the client sends its own metadata plus the server's
 * `x-md-global-` entries, so global metadata crosses every hop.
 */
export const metadata = {
  server(options: MetadataServerOptions = {}): Middleware {
    const prefixes = (options.prefix ?? ["x-md-"]).map((p) => p.toLowerCase());
    const constants = options.constants ?? {};
    return (next) =>
      function metadataServer(ctx, req) {
        const transport = serverTransport(ctx);
        if (transport !== undefined) {
          const md = new Metadata(constants);
          for (const key of transport.requestHeader.keys()) {
            if (hasPrefix(key, prefixes))
              for (const v of transport.requestHeader.values(key)) md.add(key, v);
          }
          setServerMetadata(ctx, md);
        }
        return next(ctx, req);
      };
  },

  client(options: MetadataClientOptions = {}): Middleware {
    const prefixes = (options.prefix ?? ["x-md-global-"]).map((p) => p.toLowerCase());
    const constants = options.constants ?? {};
    return (next) =>
      function metadataClient(ctx, req) {
        const transport = clientTransport(ctx);
        if (transport !== undefined) {
          const header = transport.requestHeader;
          for (const [k, v] of Object.entries(constants)) header.set(k, v);
          for (const [k, values] of clientMetadata(ctx)?.entries() ?? [])
            for (const v of values) header.add(k, v);
          for (const [k, values] of serverMetadata(ctx)?.entries() ?? []) {
            if (hasPrefix(k, prefixes)) for (const v of values) header.add(k, v);
          }
        }
        return next(ctx, req);
      };
  },
};
