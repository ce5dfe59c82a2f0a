import { createLocalJWKSet, createRemoteJWKSet, errors, jwtVerify, SignJWT } from "jose";
import type {
  CryptoKey,
  JSONWebKeySet,
  JWTPayload,
  JWTVerifyGetKey,
  JWTVerifyOptions,
  KeyObject,
} from "jose";
import { claimsKey } from "./jwt-claims.js";
import type { Context } from "../context.js";
import { KratosError } from "../errors/error.js";
import { unauthorized } from "../errors/helpers.js";
import { clientTransport, serverTransport } from "../transport/transport.js";
import type { Middleware } from "./middleware.js";
import { reasons } from "../errors/reasons.js";

export type { JWTPayload } from "jose";

/** A key that signs or verifies: an HMAC secret, a Web Crypto key or a Node.js KeyObject. */
export type JwtKey = Uint8Array | CryptoKey | KeyObject;

/** Options of {@link jwt.server}. Give exactly one of `key` and `jwks`. */
export interface JwtServerOptions {
  /** The verification key: an HMAC secret, or the public key of an RS/PS/ES/EdDSA pair. */
  key?: JwtKey;
  /**
   * Where verification keys come from, chosen by the token's `kid`: a URL (fetched and cached
   * by jose's `createRemoteJWKSet`), a key set (`{ keys: [...] }`) or a jose key getter.
   */
  jwks?: URL | JSONWebKeySet | JWTVerifyGetKey;
  /**
   * With a JWKS URL: how long one fetch of the key set may take, in ms, before the calls
   * waiting on it fail with a 401. Default 5000 (jose's).
   */
  jwksTimeout?: number;
  /**
   * Accepted `alg` values. Default `["HS256"]` for a secret key; required for asymmetric keys
   * and JWKS, so that a token can never pick its own algorithm.
   */
  algorithms?: string[];
  /** Leeway for `exp` and `nbf`, in seconds or as a jose time span (`"1m"`). Default 5 s. */
  clockTolerance?: number | string;
  /** Required `iss` (one of them, when an array). Default: not checked. */
  issuer?: string | string[];
  /** Required `aud` (one of them, when an array). Default: not checked. */
  audience?: string | string[];
  /**
   * Custom checks on the verified claims, run before the handler. Throw to reject: a
   * KratosError is passed on as is (a 403 for a missing role, say); any other error becomes a
   * 401 whose message includes the thrown message, so never put a secret in it. May be async
   * (a revocation lookup, say).
   */
  claims?: (payload: JWTPayload) => void | Promise<void>;
}

/** Options of {@link jwt.client}. */
export interface JwtClientOptions {
  /** The signing key: an HMAC secret, or the private key of an RS/PS/ES/EdDSA pair. */
  key: JwtKey;
  /** The `alg` of the tokens. Default `"HS256"`. */
  algorithm?: string;
  /** The `kid` header, for servers that pick the key from a JWKS. Default: none. */
  kid?: string;
  /** The claims of every token, or a function computing them for the call's context. */
  claims: JWTPayload | ((ctx: Context) => JWTPayload);
  /**
   * Lifetime of each token in seconds; ignored when the claims carry their own `exp`.
   * Default 300: tokens are signed per call, so they can be short-lived.
   */
  expiresIn?: number;
}

// Every default of this module, in one place.
const defaults = {
  algorithm: "HS256",
  algorithms: ["HS256"],
  clockTolerance: 5,
  expiresIn: 300,
} as const;

// Messages follow Go Kratos's where one exists; none ever quotes the token, a claim value or a
// key, because error messages travel to clients and into logs.
const messages = {
  missing: "JWT token is missing",
  notBearer: 'JWT token is missing: the authorization header is not "Bearer <token>"',
  malformed: "Fail to parse JWT token",
  expired: "Token is expired",
  notYetValid: "Token is not valid yet",
  signature: "Token is invalid: signature verification failed",
  algorithm: "Wrong signing method",
  noKey: "Token is invalid: no verification key matches it",
  keySet: "Token is invalid: the verification keys are unavailable",
  invalid: "Token is invalid",
  wrongContext: "Wrong context for middleware",
  sign: "Can not sign JWT token: is the key right for the algorithm?",
} as const;

function fail(message: string, cause?: unknown): KratosError {
  return unauthorized(reasons.unauthorized, message, cause === undefined ? undefined : { cause });
}

// `Bearer` is case-insensitive (RFC 7235). The token is taken as one run of non-space
// characters and left to jose, so a bad character reads "Fail to parse", not "not Bearer".
const bearer = /^Bearer +(\S+) *$/i;

function tokenOf(header: string | undefined): string {
  if (header === undefined || header.trim() === "") throw fail(messages.missing);
  const match = bearer.exec(header);
  if (match?.[1] === undefined) throw fail(messages.notBearer);
  return match[1];
}

function isSymmetric(key: JwtKey): boolean {
  return key instanceof Uint8Array || key.type === "secret";
}

/** Maps what jose throws to a 401 with a precise message; the cause stays for logs only. */
function verificationError(err: unknown): KratosError {
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === "nbf") return fail(messages.notYetValid, err);
    // jose names the claim only from its own fixed list (iss, aud, iat...): safe to echo.
    return fail(`Token is invalid: the "${err.claim}" claim check failed`, err);
  }
  if (!(err instanceof errors.JOSEError)) return fail(messages.invalid, err);
  switch (err.code) {
    case "ERR_JWT_EXPIRED":
      return fail(messages.expired, err);
    case "ERR_JOSE_ALG_NOT_ALLOWED":
    case "ERR_JOSE_NOT_SUPPORTED":
      return fail(messages.algorithm, err);
    case "ERR_JWS_SIGNATURE_VERIFICATION_FAILED":
      return fail(messages.signature, err);
    case "ERR_JWKS_NO_MATCHING_KEY":
    case "ERR_JWKS_MULTIPLE_MATCHING_KEYS":
      return fail(messages.noKey, err);
    case "ERR_JWKS_TIMEOUT":
    case "ERR_JWKS_INVALID":
      return fail(messages.keySet, err);
    case "ERR_JWS_INVALID":
    case "ERR_JWT_INVALID":
      return fail(messages.malformed, err);
    default:
      return fail(messages.invalid, err);
  }
}

type Verify = (token: string) => Promise<JWTPayload>;

function verifier(options: JwtServerOptions): Verify {
  const { key, jwks } = options;
  const oneOf = "jwt.server: give exactly one of `key` and `jwks`";
  if ((key === undefined) === (jwks === undefined)) throw new TypeError(oneOf);
  if (options.algorithms === undefined && (key === undefined || !isSymmetric(key)))
    throw new TypeError("jwt.server: set `algorithms` for an asymmetric key or a JWKS");
  const verifyOptions: JWTVerifyOptions = {
    algorithms: options.algorithms ?? [...defaults.algorithms],
    clockTolerance: options.clockTolerance ?? defaults.clockTolerance,
    ...(options.issuer === undefined ? {} : { issuer: options.issuer }),
    ...(options.audience === undefined ? {} : { audience: options.audience }),
  };
  if (key !== undefined)
    return async (token) => (await jwtVerify(token, key, verifyOptions)).payload;
  if (jwks === undefined) throw new TypeError(oneOf);
  const getKey =
    jwks instanceof URL
      ? createRemoteJWKSet(
          jwks,
          options.jwksTimeout === undefined ? {} : { timeoutDuration: options.jwksTimeout },
        )
      : typeof jwks === "function"
        ? jwks
        : createLocalJWKSet(jwks);
  return async (token) => (await jwtVerify(token, getKey, verifyOptions)).payload;
}

async function checkClaims(
  check: (payload: JWTPayload) => void | Promise<void>,
  payload: JWTPayload,
): Promise<void> {
  try {
    await check(payload);
  } catch (err) {
    if (err instanceof KratosError) throw err;
    const detail = err instanceof Error ? err.message : "";
    throw fail(detail === "" ? messages.invalid : `Token is invalid: ${detail}`, err);
  }
}

/**
 * JWT authentication, as Go Kratos's `auth/jwt`: the server verifies the
 * `Authorization: Bearer` token with jose and puts its claims on the context ({@link jwtClaims});
 * the client signs a fresh token per call. Every failure is a 401 with reason `UNAUTHORIZED`
 * (gRPC `UNAUTHENTICATED`). Exempt operations (health, login) with `selector.server`.
 */
export const jwt = {
  /** Verifies the call's Bearer token and puts its claims on the context; throws a 401 otherwise. */
  server(options: JwtServerOptions): Middleware {
    const verify = verifier(options);
    const check = options.claims;
    const authenticate = async (authorization: string | undefined): Promise<JWTPayload> => {
      const token = tokenOf(authorization);
      let payload: JWTPayload;
      try {
        payload = await verify(token);
      } catch (err) {
        throw verificationError(err);
      }
      if (check !== undefined) await checkClaims(check, payload);
      return payload;
    };
    return (next) =>
      async function jwtServer(ctx, req) {
        const transport = serverTransport(ctx);
        // Fail closed: without a transport there is no header to authenticate.
        if (transport === undefined) throw fail(messages.wrongContext);
        const authorization = transport.requestHeader.get("authorization");
        let payload: JWTPayload;
        try {
          payload = await authenticate(authorization);
        } catch (err) {
          // HTTP requires a challenge with every 401 (RFC 7235); RFC 6750 adds the error code
          // only when a token was sent.
          if (transport.kind === "http" && err instanceof KratosError && err.code === 401)
            transport.replyHeader.set(
              "www-authenticate",
              authorization === undefined ? "Bearer" : 'Bearer error="invalid_token"',
            );
          throw err;
        }
        ctx.values.set(claimsKey, payload);
        return next(ctx, req);
      };
  },

  /** Signs a token per call into the client transport's `authorization` header. */
  client(options: JwtClientOptions): Middleware {
    const { key, kid, claims } = options;
    const alg = options.algorithm ?? defaults.algorithm;
    const expiresIn = options.expiresIn ?? defaults.expiresIn;
    const sign = (payload: JWTPayload): Promise<string> => {
      // One clock reading for iat and exp, so a token lives exactly `expiresIn` seconds.
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT(payload)
        .setProtectedHeader(kid === undefined ? { alg } : { alg, kid })
        .setIssuedAt(payload.iat ?? now)
        .setExpirationTime(payload.exp ?? now + expiresIn)
        .sign(key);
    };
    return (next) =>
      async function jwtClient(ctx, req) {
        const transport = clientTransport(ctx);
        if (transport === undefined) throw fail(messages.wrongContext);
        // The claims function runs outside the try: its own errors reach the caller unchanged.
        const payload = typeof claims === "function" ? claims(ctx) : claims;
        let token: string;
        try {
          token = await sign(payload);
        } catch (err) {
          throw fail(messages.sign, err);
        }
        transport.requestHeader.set("authorization", `Bearer ${token}`);
        return next(ctx, req);
      };
  },
};
