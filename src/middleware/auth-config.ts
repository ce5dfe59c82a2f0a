// The `auth` section of a config, checked whole and compiled into the middleware it turns on:
// jwt.server for every operation that is not public, then authz.server with its rules. Pure:
// no I/O, so the same check serves the start (fail with one line) and live edits (refuse with
// one warning); the JWKS URL is only fetched by calls (and the probe of followAuth).
import { durationHint, parseDurationNanos } from "../config/duration.js";
import { ConfigError } from "../config/source.js";
import { describe } from "../config/value.js";
import { createContext } from "../context.js";
import { NodeHeader } from "../transport/header.js";
import { setServerTransport } from "../transport/transport.js";
import { authz, matchesAny } from "./authz.js";
import type { AuthzRule } from "./authz.js";
import { jwt } from "./jwt.js";
import type { JwtServerOptions } from "./jwt.js";
import type { Middleware } from "./middleware.js";
import { selector } from "./selector.js";

/**
 * Operations that stay open by default when `auth.public` is not set: gRPC health checks and
 * server reflection, so probes and tools keep working once tokens are required.
 */
export const defaultPublicOperations: readonly string[] = [
  "/grpc.health.v1.Health/*",
  "/grpc.reflection.v1.ServerReflection/*",
  "/grpc.reflection.v1alpha.ServerReflection/*",
];

/** The algorithms `auth.jwt.algorithms` accepts (jose's JWS algorithms). */
export const jwtAlgorithms: readonly string[] = [
  "HS256",
  "HS384",
  "HS512",
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "ES512",
  "EdDSA",
  "Ed25519",
];

/** The JWKS fetch timeout when `auth.jwt.jwks_timeout` is not set, in ms: short, so no call hangs. */
export const defaultJwksTimeout = 2000;

/** What an `auth` section turns on. */
export interface AuthSettings {
  /** False when the section (or its `jwt`) is absent: every call passes untouched. */
  readonly enabled: boolean;
  /** The JWKS URL, when keys come from one (probed by followAuth). */
  readonly jwksUrl: URL | undefined;
  /** The JWKS fetch timeout in ms. */
  readonly jwksTimeout: number;
  /** True for the operations (and paths such as `/metrics`) that need no token. */
  readonly isPublic: (operation: string) => boolean;
  /** jwt.server then authz.server for the non-public operations; identity when disabled. */
  readonly middleware: Middleware;
  /**
   * Runs {@link AuthSettings.middleware} for a request outside the middleware chain (a plain
   * handler such as `/metrics`): resolves when `operation` may be called with `authorization`,
   * rejects with the 401 or 403 KratosError otherwise.
   */
  readonly check: (operation: string, authorization: string | undefined) => Promise<void>;
}

/** Options of {@link compileAuth}. */
export interface CompileAuthOptions {
  /** The dotted key of the section, named in messages. Default `auth`. */
  path?: string;
  /** The file or source that set a dotted key (`config.value(key).origin`), for messages. */
  origin?: (key: string) => string | undefined;
}

const sections = {
  auth: ["jwt", "public", "rules"],
  jwt: ["secret", "jwksUrl", "jwksTimeout", "algorithms", "issuer", "audience"],
  rule: ["operations", "claims", "scopes"],
} as const;

const camel = (key: string) => key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
const snake = (key: string) => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
const isMap = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** Collects problems as `<file>: <key>: <what>`; the first one is thrown. */
class Issues {
  readonly list: string[] = [];
  constructor(readonly origin: ((key: string) => string | undefined) | undefined) {}
  report(key: string, what: string): void {
    const file = this.origin?.(key);
    this.list.push(`${file === undefined ? "" : `${file}: `}${key}: ${what}`);
  }
  /** The map's known fields, camelCased; reports the rest. */
  fields(raw: unknown, key: string, known: readonly string[]): Record<string, unknown> | undefined {
    if (!isMap(raw)) {
      this.report(key, `expected a map, got ${describe(raw)}`);
      return undefined;
    }
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(raw)) {
      if (known.includes(camel(k))) out[camel(k)] = v;
      else this.report(`${key}.${k}`, `unknown key (known: ${known.map(snake).join(", ")})`);
    }
    return out;
  }
  /** A list of non-empty strings; a single string is a list of one when `single`. */
  strings(raw: unknown, key: string, single = false): string[] | undefined {
    if (single && typeof raw === "string" && raw !== "") return [raw];
    if (!Array.isArray(raw)) {
      this.report(key, `expected a list of strings, got ${describe(raw)}`);
      return undefined;
    }
    const bad = raw.findIndex((v) => typeof v !== "string" || v === "");
    if (bad >= 0) {
      this.report(`${key}.${bad}`, `expected a non-empty string, got ${describe(raw[bad])}`);
      return undefined;
    }
    return raw as string[];
  }
}

// RFC 7518 3.2: an HMAC key at least as long as the hash output.
const hmacBytes: Record<string, number> = { HS256: 32, HS384: 48, HS512: 64 };

function readJwt(raw: unknown, key: string, issues: Issues): JwtServerOptions | undefined {
  const f = issues.fields(raw, key, sections.jwt);
  if (f === undefined) return undefined;
  const options: JwtServerOptions = {};
  const algorithms =
    f["algorithms"] === undefined
      ? undefined
      : issues.strings(f["algorithms"], `${key}.algorithms`);
  algorithms?.forEach((alg, i) => {
    if (!jwtAlgorithms.includes(alg))
      issues.report(
        `${key}.algorithms.${i}`,
        `unknown algorithm "${alg}" (${jwtAlgorithms.join(", ")})`,
      );
  });
  const { secret, jwksUrl } = f;
  if ((secret === undefined) === (jwksUrl === undefined)) {
    issues.report(key, "set exactly one of secret and jwks_url");
  } else if (secret !== undefined) {
    // Unknown names are reported above, once.
    const algs = (algorithms ?? ["HS256"]).filter((a) => jwtAlgorithms.includes(a));
    if (typeof secret !== "string" || secret === "") {
      issues.report(`${key}.secret`, `expected a non-empty string, got ${describe(secret)}`);
    } else {
      const nonHmac = algs.find((a) => hmacBytes[a] === undefined);
      if (nonHmac !== undefined)
        issues.report(
          `${key}.algorithms`,
          `${nonHmac} needs jwks_url; a secret signs HS256, HS384 or HS512`,
        );
      const need = Math.max(...algs.map((a) => hmacBytes[a] ?? 0));
      const bytes = new TextEncoder().encode(secret);
      // The secret itself is never quoted: messages go to logs.
      if (bytes.length < need)
        issues.report(
          `${key}.secret`,
          `too short for ${algs.join(", ")}: ${bytes.length} bytes, at least ${need}`,
        );
      options.key = bytes;
    }
  } else {
    let url: URL | undefined;
    try {
      url = typeof jwksUrl === "string" ? new URL(jwksUrl) : undefined;
    } catch {
      url = undefined;
    }
    if (url === undefined || (url.protocol !== "http:" && url.protocol !== "https:"))
      issues.report(`${key}.jwks_url`, `expected an http(s) URL, got ${describe(jwksUrl)}`);
    else options.jwks = url;
    if (algorithms === undefined)
      issues.report(`${key}.algorithms`, "required with jwks_url (e.g. [RS256])");
    const hmac = algorithms?.find((a) => hmacBytes[a] !== undefined);
    if (hmac !== undefined)
      issues.report(`${key}.algorithms`, `${hmac} needs a secret, not jwks_url`);
  }
  if (algorithms !== undefined) options.algorithms = algorithms;
  if (f["jwksTimeout"] !== undefined) {
    const raw = f["jwksTimeout"];
    const nanos =
      typeof raw === "string"
        ? parseDurationNanos(raw)
        : typeof raw === "number"
          ? raw * 1e6
          : undefined;
    if (nanos === undefined || !(nanos > 0))
      issues.report(
        `${key}.jwks_timeout`,
        `expected a positive duration, got ${describe(raw)} (${durationHint})`,
      );
    else options.jwksTimeout = nanos / 1e6;
  }
  for (const claim of ["issuer", "audience"] as const) {
    if (f[claim] === undefined) continue;
    const values = issues.strings(f[claim], `${key}.${claim}`, true);
    if (values !== undefined) options[claim] = values;
  }
  return options;
}

function readRule(raw: unknown, key: string, issues: Issues): AuthzRule | undefined {
  const f = issues.fields(raw, key, sections.rule);
  if (f === undefined) return undefined;
  const operations = issues.strings(f["operations"] ?? [], `${key}.operations`);
  if (operations?.length === 0)
    issues.report(`${key}.operations`, "required: the operations the rule guards");
  const rule: AuthzRule = { operations: operations ?? [] };
  if (f["scopes"] !== undefined) {
    const scopes = issues.strings(f["scopes"], `${key}.scopes`);
    if (scopes !== undefined) rule.scopes = scopes;
  }
  if (f["claims"] !== undefined) {
    if (!isMap(f["claims"]))
      issues.report(`${key}.claims`, `expected a map, got ${describe(f["claims"])}`);
    else {
      const claims: Record<string, string[]> = {};
      for (const [name, v] of Object.entries(f["claims"])) {
        const list =
          typeof v === "number" || typeof v === "boolean"
            ? [String(v)]
            : issues.strings(v, `${key}.claims.${name}`, true);
        if (list !== undefined) claims[name] = list;
      }
      rule.claims = claims;
    }
  }
  if (rule.scopes === undefined && rule.claims === undefined)
    issues.report(key, "a rule needs scopes or claims");
  return rule;
}

/** `middleware` as a check of one request: the call it guards does nothing. */
function checkOf(middleware: Middleware): AuthSettings["check"] {
  const guarded = middleware(() => Promise.resolve(undefined));
  return async (operation, authorization) => {
    const ctx = createContext();
    const requestHeader = new NodeHeader(authorization === undefined ? {} : { authorization });
    const replyHeader = new NodeHeader({});
    setServerTransport(ctx, { kind: "http", endpoint: "", operation, requestHeader, replyHeader });
    await guarded(ctx, undefined);
  };
}

const disabled: AuthSettings = {
  enabled: false,
  jwksUrl: undefined,
  jwksTimeout: defaultJwksTimeout,
  isPublic: () => true,
  middleware: (next) => next,
  check: () => Promise.resolve(),
};

/**
 * Checks an `auth` section (plain data) whole and builds what it turns on; throws a
 * {@link ConfigError} naming the file and key of the first problem (`(and N more)` after it).
 * An absent section, or one without `jwt`, turns nothing on.
 */
export function compileAuth(raw: unknown, options: CompileAuthOptions = {}): AuthSettings {
  const path = options.path ?? "auth";
  if (raw === undefined || raw === null) return disabled;
  const issues = new Issues(options.origin);
  const f = issues.fields(raw, path, sections.auth);
  const jwtOptions =
    f?.["jwt"] === undefined ? undefined : readJwt(f["jwt"], `${path}.jwt`, issues);
  const isPublic = matchesAny(
    f?.["public"] === undefined
      ? defaultPublicOperations
      : (issues.strings(f["public"], `${path}.public`) ?? []),
  );
  const rules: AuthzRule[] = [];
  if (f?.["rules"] !== undefined) {
    if (!Array.isArray(f["rules"]))
      issues.report(`${path}.rules`, `expected a list, got ${describe(f["rules"])}`);
    else
      f["rules"].forEach((r, i) => {
        const rule = readRule(r, `${path}.rules.${i}`, issues);
        if (rule !== undefined) rules.push(rule);
      });
  }
  if (
    f !== undefined &&
    f["jwt"] === undefined &&
    (f["rules"] !== undefined || f["public"] !== undefined)
  )
    issues.report(`${path}.jwt`, "required: rules and public operations need a token to check");
  if (issues.list.length > 0) {
    const more = issues.list.length > 1 ? ` (and ${issues.list.length - 1} more)` : "";
    throw new ConfigError(`${issues.list[0] ?? path}${more}`);
  }
  if (jwtOptions === undefined) return disabled;
  // Built here, once per change: jose's key set (and its JWKS cache) lives as long as the settings.
  const jwksTimeout = jwtOptions.jwksTimeout ?? defaultJwksTimeout;
  const guarded = [
    jwt.server({ ...jwtOptions, jwksTimeout }),
    ...(rules.length > 0 ? [authz.server({ rules })] : []),
  ];
  const middleware = selector.server({
    middleware: guarded,
    match: (operation) => !isPublic(operation),
  });
  return {
    enabled: true,
    jwksUrl: jwtOptions.jwks instanceof URL ? jwtOptions.jwks : undefined,
    jwksTimeout,
    isPublic,
    middleware,
    check: checkOf(middleware),
  };
}
