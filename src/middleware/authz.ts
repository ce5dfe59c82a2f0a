// Simple authorisation on the claims jwt.server verified: rules of required claims and scopes
// per operation pattern, answering 403 FORBIDDEN with the missing requirement. It runs after
// jwt.server (it reads jwtClaims) and needs nothing else, so it works with or without the layout.
import type { JWTPayload } from "jose";
import type { Context } from "../context.js";
import { forbidden } from "../errors/helpers.js";
import { reasons } from "../errors/reasons.js";
import { serverTransport } from "../transport/transport.js";
import { jwtClaims } from "./jwt-claims.js";
import type { Middleware } from "./middleware.js";

/** One authorisation rule: what a token must carry to call the operations it names. */
export interface AuthzRule {
  /**
   * Operation patterns: exact (`/helloworld.v1.Greeter/SayHello`), a prefix ending in `*`
   * (`/helloworld.v1.Greeter/*`), or `*` for every operation.
   */
  operations: readonly string[];
  /**
   * Claims the token must carry, each with the values it may have (any one of them); a claim
   * that is a list passes when it holds one of them. `{ role: ["admin", "ops"] }`.
   */
  claims?: Readonly<Record<string, string | readonly string[]>>;
  /** Scopes the token must all have, from `scope` (space separated, RFC 8693) or `scp`. */
  scopes?: readonly string[];
}

/** Options of {@link authz.server}. */
export interface AuthzOptions {
  /** The rules; every rule whose operations match the call must pass. */
  rules: readonly AuthzRule[];
  /** Where the verified claims come from. Default {@link jwtClaims} (set by jwt.server). */
  claimsOf?: (ctx: Context) => JWTPayload | undefined;
}

/** A test of an operation against one pattern: exact, `prefix*`, or `*`. */
export function operationMatcher(pattern: string): (operation: string) => boolean {
  if (pattern === "*") return () => true;
  if (pattern.endsWith("*")) {
    const prefix = pattern.slice(0, -1);
    return (operation) => operation.startsWith(prefix);
  }
  return (operation) => operation === pattern;
}

/** True when `operation` matches any of `patterns` (see {@link operationMatcher}). */
export function matchesAny(patterns: readonly string[]): (operation: string) => boolean {
  const tests = patterns.map(operationMatcher);
  return (operation) => tests.some((test) => test(operation));
}

/** The token's scopes: `scope` as a space-separated string, or `scp` as a string or a list. */
export function scopesOf(claims: JWTPayload): ReadonlySet<string> {
  const out = new Set<string>();
  for (const raw of [claims["scope"], claims["scp"]]) {
    if (typeof raw === "string") for (const s of raw.split(" ")) if (s !== "") out.add(s);
    if (Array.isArray(raw)) for (const s of raw) if (typeof s === "string") out.add(s);
  }
  return out;
}

function claimHas(value: unknown, allowed: readonly string[]): boolean {
  const one = (v: unknown) =>
    (typeof v === "string" || typeof v === "number" || typeof v === "boolean") &&
    allowed.includes(String(v));
  return Array.isArray(value) ? value.some(one) : one(value);
}

interface Compiled {
  matches: (operation: string) => boolean;
  claims: [string, readonly string[]][];
  scopes: readonly string[];
}

/**
 * Why `claims` fail `rule`, or undefined when they pass. The reason names the claim or scope the
 * rule wants, never what the token holds: messages travel to clients and into logs.
 */
function refusal(rule: Compiled, claims: JWTPayload): string | undefined {
  if (rule.scopes.length > 0) {
    const held = scopesOf(claims);
    const missing = rule.scopes.find((s) => !held.has(s));
    if (missing !== undefined) return `the token lacks the scope "${missing}"`;
  }
  for (const [name, allowed] of rule.claims) {
    if (!claimHas(claims[name], allowed)) {
      return `the token's "${name}" claim is not ${allowed.map((a) => `"${a}"`).join(" or ")}`;
    }
  }
  return undefined;
}

/**
 * Authorisation from rules: for each call, every rule whose operations match must pass, or the
 * call fails with 403 reason `FORBIDDEN` (gRPC PERMISSION_DENIED) and a message naming what was
 * missing, before the handler runs. A call no rule matches passes. Put it right after
 * `jwt.server`, in the same selector if some operations are public.
 */
export const authz = {
  server(options: AuthzOptions): Middleware {
    const rules: Compiled[] = options.rules.map((r) => ({
      matches: matchesAny(r.operations),
      claims: Object.entries(r.claims ?? {}).map(([k, v]): [string, readonly string[]] => [
        k,
        typeof v === "string" ? [v] : v,
      ]),
      scopes: r.scopes ?? [],
    }));
    const claimsOf = options.claimsOf ?? jwtClaims;
    return (next) =>
      async function authzServer(ctx, req) {
        if (rules.length === 0) return next(ctx, req);
        const operation = serverTransport(ctx)?.operation ?? "";
        for (const rule of rules) {
          if (!rule.matches(operation)) continue;
          const claims = claimsOf(ctx);
          // Fail closed: a rule that matches needs verified claims to pass.
          const why =
            claims === undefined ? "the call carries no verified token" : refusal(rule, claims);
          if (why !== undefined) {
            throw forbidden(reasons.forbidden, `permission denied for ${operation}: ${why}`);
          }
        }
        return next(ctx, req);
      };
  },
};
