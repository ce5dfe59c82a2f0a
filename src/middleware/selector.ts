import type { Context } from "../context.js";
import { clientTransport, serverTransport } from "../transport/transport.js";
import type { Transporter } from "../transport/transport.js";
import { chain } from "./middleware.js";
import type { Middleware } from "./middleware.js";

/** Which operations a selector applies its middleware to; any match is enough. */
export interface SelectorOptions {
  /** The middleware to run for matching operations, outermost first. */
  middleware: Middleware[];
  /** Operation prefixes: `/helloworld.v1.Greeter/`. */
  prefix?: string[];
  /** Regular expressions tested against the operation. */
  regex?: (string | RegExp)[];
  /** Exact operations: `/helloworld.v1.Greeter/SayHello`. */
  path?: string[];
  /** A custom test. */
  match?: (operation: string, ctx: Context) => boolean;
}

function build(
  options: SelectorOptions,
  transportOf: (ctx: Context) => Transporter | undefined,
): Middleware {
  const prefixes = options.prefix ?? [];
  const regexes = (options.regex ?? []).map((r) => (typeof r === "string" ? new RegExp(r) : r));
  const paths = new Set(options.path ?? []);
  const custom = options.match;
  const inner = chain(...options.middleware);
  const matches = (operation: string, ctx: Context): boolean =>
    paths.has(operation) ||
    prefixes.some((p) => operation.startsWith(p)) ||
    regexes.some((r) => r.test(operation)) ||
    (custom !== undefined && custom(operation, ctx));
  return (next) => {
    const selected = inner(next);
    return function selector(ctx, req) {
      const operation = transportOf(ctx)?.operation;
      return operation !== undefined && matches(operation, ctx)
        ? selected(ctx, req)
        : next(ctx, req);
    };
  };
}

/**
 * Runs middleware only for some operations (Kratos `selector`): by prefix, regular expression,
 * exact operation or a custom test. `server` reads the server transport, `client` the client's.
 */
export const selector = {
  server(options: SelectorOptions): Middleware {
    return build(options, serverTransport);
  },
  client(options: SelectorOptions): Middleware {
    return build(options, clientTransport);
  },
};
