// Cross-origin access for browsers (Go Kratos mounts a gorilla/handlers CORS filter for this).
// The policy is transport-neutral: both servers ask it what a request's CORS headers are, and
// answer preflights before routing, so a page on another origin can call either port.
import type { IncomingHttpHeaders } from "node:http";
import { KratosError } from "../errors/error.js";
import { reasons } from "../errors/reasons.js";
import type { Logger } from "../log/logger.js";

/** CORS settings of a server; off unless given. */
export interface CorsOptions {
  /**
   * Origins allowed to call: `https://app.example`, `*` for any, patterns with `*` for one or
   * more host or port characters (`https://*.example.com`, `http://localhost:*`), or RegExps.
   */
  origins: readonly (string | RegExp)[];
  /** Methods a page may use. Default: the server's (see each server's CORS defaults). */
  methods?: readonly string[];
  /**
   * Request headers a page may send, besides the CORS-safelisted ones; `*` allows any the
   * preflight asks for. Default: the server's.
   */
  headers?: readonly string[];
  /** Response headers a page may read, besides the safelisted ones. Default: the server's. */
  exposeHeaders?: readonly string[];
  /** Allow cookies and HTTP authentication (`Access-Control-Allow-Credentials`). Default false. */
  credentials?: boolean;
  /** Seconds a browser may cache a preflight answer. Default: not sent (browsers use 5 s). */
  maxAge?: number;
  /** Where a refused origin is logged, at debug. Default: nowhere. */
  logger?: Logger;
}

/** What a server's protocols need from CORS when nothing is configured for it. */
export interface CorsDefaults {
  methods: readonly string[];
  headers: readonly string[];
  exposeHeaders: readonly string[];
}

/** The CORS-relevant parts of a request. */
export interface CorsRequest {
  method: string;
  origin: string | undefined;
  /** `Access-Control-Request-Method` of a preflight. */
  requestMethod: string | undefined;
  /** `Access-Control-Request-Headers` of a preflight. */
  requestHeaders: string | undefined;
}

/** The answer to a preflight from an origin that may not call: 403 `ORIGIN_NOT_ALLOWED`. */
export function originRefused(origin: string): KratosError {
  return new KratosError(
    403,
    reasons.originNotAllowed,
    `origin ${origin} may not call this server`,
  );
}

/** The CORS parts of a request's method and headers (HTTP/1.1 or HTTP/2 alike). */
export function corsRequest(method: string, headers: IncomingHttpHeaders): CorsRequest {
  return {
    method,
    origin: headers.origin,
    requestMethod: one(headers["access-control-request-method"]),
    requestHeaders: one(headers["access-control-request-headers"]),
  };
}

function one(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(", ") : value;
}

/** What to do with a request. */
export type CorsAnswer =
  /** Not a cross-origin request (no `Origin`): nothing to add. */
  | { kind: "none" }
  /** A preflight: answer 204 with these headers and stop. */
  | { kind: "preflight"; headers: Record<string, string> }
  /** A preflight from an origin that may not call: answer it without CORS headers. */
  | { kind: "refused"; error: KratosError }
  /** A request to serve as usual, with these headers on its response (none for a refused origin). */
  | { kind: "serve"; headers: Record<string, string> };

/** A compiled policy: the answer for each request. */
export type CorsPolicy = (req: CorsRequest) => CorsAnswer;

/** Compiles `options` over a server's `defaults`. */
export function corsPolicy(options: CorsOptions, defaults: CorsDefaults): CorsPolicy {
  const matchers = options.origins.map(originMatcher);
  const any = options.origins.includes("*");
  const methods = (options.methods ?? defaults.methods).map((m) => m.toUpperCase());
  const headers = options.headers ?? defaults.headers;
  const echoHeaders = headers.includes("*");
  const expose = (options.exposeHeaders ?? defaults.exposeHeaders).join(", ");
  const credentials = options.credentials === true;
  const logger = options.logger;
  const allowed = (origin: string) => matchers.some((match) => match(origin));
  // A fixed `*` answer does not depend on the origin; every other does, and caches must know.
  const fixedAny = any && !credentials;
  const common = (origin: string): Record<string, string> => {
    const out: Record<string, string> = { "access-control-allow-origin": fixedAny ? "*" : origin };
    if (credentials) out["access-control-allow-credentials"] = "true";
    if (!fixedAny) out["vary"] = "Origin";
    return out;
  };
  return (req) => {
    const { origin } = req;
    if (origin === undefined) return { kind: "none" };
    const preflight = req.method === "OPTIONS" && req.requestMethod !== undefined;
    if (!allowed(origin)) {
      logger?.debug(
        { origin, method: req.requestMethod ?? req.method },
        "cors: origin not allowed",
      );
      return preflight
        ? { kind: "refused", error: originRefused(origin) }
        : { kind: "serve", headers: {} };
    }
    const out = common(origin);
    if (!preflight) {
      if (expose !== "") out["access-control-expose-headers"] = expose;
      return { kind: "serve", headers: out };
    }
    out["access-control-allow-methods"] = methods.join(", ");
    const asked = req.requestHeaders?.trim();
    const allowHeaders = echoHeaders ? asked : headers.join(", ");
    if (allowHeaders !== undefined && allowHeaders !== "") {
      out["access-control-allow-headers"] = allowHeaders;
    }
    if (options.maxAge !== undefined) out["access-control-max-age"] = String(options.maxAge);
    // A preflight's answer varies with what it asks for, too.
    if (out["vary"] !== undefined) {
      out["vary"] = "Origin, Access-Control-Request-Method, Access-Control-Request-Headers";
    }
    return { kind: "preflight", headers: out };
  };
}

/** A matcher for one configured origin: exact (case-insensitive), `*`, a pattern or a RegExp. */
function originMatcher(origin: string | RegExp): (candidate: string) => boolean {
  if (origin instanceof RegExp) return (candidate) => origin.test(candidate);
  if (origin === "*") return () => true;
  if (!origin.includes("*")) {
    const exact = origin.toLowerCase().replace(/\/$/, "");
    return (candidate) => candidate.toLowerCase() === exact;
  }
  // `*` stands for host or port characters only, so `https://*.example.com` cannot match
  // `https://evil.com/.example.com` or a userinfo trick.
  const pattern = origin
    .toLowerCase()
    .replace(/\/$/, "")
    .split("*")
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
    .join("[a-z0-9-]+(?:\\.[a-z0-9-]+)*");
  const re = new RegExp(`^${pattern}$`);
  return (candidate) => re.test(candidate.toLowerCase());
}
