import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import {
  base64url,
  CompactSign,
  createLocalJWKSet,
  exportJWK,
  generateKeyPair,
  SignJWT,
} from "jose";
import type { CryptoKey, JWK, JWTPayload } from "jose";
import { createContext } from "../../src/context.js";
import type { Context } from "../../src/context.js";
import { KratosError } from "../../src/errors/error.js";
import { forbidden } from "../../src/errors/helpers.js";
import { jwtClaims } from "../../src/middleware/jwt-claims.js";
import { jwt } from "../../src/middleware/jwt.js";
import type { JwtServerOptions } from "../../src/middleware/jwt.js";
import type { Handler } from "../../src/middleware/middleware.js";
import { selector } from "../../src/middleware/selector.js";
import { NodeHeader } from "../../src/transport/header.js";
import {
  serverTransport,
  setClientTransport,
  setServerTransport,
} from "../../src/transport/transport.js";

const secretText = "a-secret-of-at-least-thirty-two-bytes!";
const secret = new TextEncoder().encode(secretText);
const now = () => Math.floor(Date.now() / 1000);

function transport(operation: string) {
  return {
    kind: "http" as const,
    endpoint: "http://127.0.0.1:1",
    operation,
    requestHeader: new NodeHeader({}),
    replyHeader: new NodeHeader({}),
  };
}

/** A server-side context whose request carries `authorization` (when given). */
function serverCtx(authorization?: string, operation = "/helloworld.v1.Greeter/SayHello"): Context {
  const ctx = createContext();
  const t = transport(operation);
  if (authorization !== undefined) t.requestHeader.set("authorization", authorization);
  setServerTransport(ctx, t);
  return ctx;
}

/** The handler: replies with the claims it sees. */
const echoClaims: Handler = (ctx) => Promise.resolve(jwtClaims(ctx));

function hs256(claims: JWTPayload, key: Uint8Array = secret): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: "HS256" }).sign(key);
}

/** Runs `jwt.server(options)` for a request with `authorization`; resolves with the claims seen. */
function serve(options: JwtServerOptions, authorization?: string): Promise<unknown> {
  return jwt.server(options)(echoClaims)(serverCtx(authorization), {});
}

/** Asserts a 401 UNAUTHORIZED with `message` that quotes neither the token nor the secret. */
async function rejects401(call: Promise<unknown>, message: string, token = ""): Promise<void> {
  await assert.rejects(call, (err: unknown) => {
    assert.ok(err instanceof KratosError, `not a KratosError: ${String(err)}`);
    assert.equal(err.code, 401);
    assert.equal(err.reason, "UNAUTHORIZED");
    assert.equal(err.message, message);
    assert.ok(!err.message.includes(secretText));
    if (token !== "") {
      for (const part of token.split(".").filter((p) => p.length > 3))
        assert.ok(!err.message.includes(part), "the message quotes the token");
    }
    return true;
  });
}

describe("jwt.server: bad input", () => {
  const options: JwtServerOptions = { key: secret };

  it("accepts a good token and puts its claims on the context", async () => {
    const token = await hs256({ sub: "alice", exp: now() + 60 });
    const claims = (await serve(options, `Bearer ${token}`)) as JWTPayload;
    assert.equal(claims.sub, "alice");
    // The scheme is case-insensitive (RFC 6750).
    assert.equal(((await serve(options, `bearer ${token}`)) as JWTPayload).sub, "alice");
  });

  const cases: { name: string; header: () => Promise<string | undefined>; message: string }[] = [
    {
      name: "missing header",
      header: () => Promise.resolve(undefined),
      message: "JWT token is missing",
    },
    { name: "empty header", header: () => Promise.resolve("  "), message: "JWT token is missing" },
    {
      name: "not Bearer",
      header: async () => `Basic ${await hs256({ sub: "a" })}`,
      message: 'JWT token is missing: the authorization header is not "Bearer <token>"',
    },
    {
      name: "Bearer without a token",
      header: () => Promise.resolve("Bearer "),
      message: 'JWT token is missing: the authorization header is not "Bearer <token>"',
    },
    {
      name: "a token with spaces",
      header: () => Promise.resolve("Bearer abc def"),
      message: 'JWT token is missing: the authorization header is not "Bearer <token>"',
    },
    {
      name: "malformed token",
      header: () => Promise.resolve("Bearer not-a-jwt"),
      message: "Fail to parse JWT token",
    },
    {
      name: "header not JSON",
      header: () => Promise.resolve(`Bearer ${base64url.encode("not json")}.e30.abc`),
      message: "Fail to parse JWT token",
    },
    {
      name: "signature not base64url",
      header: () => Promise.resolve("Bearer eyJhbGciOiJIUzI1NiJ9.e30.%%%"),
      message: "Fail to parse JWT token",
    },
    {
      name: "payload not JSON",
      // A correctly signed JWS whose payload is not a claims set.
      header: async () =>
        `Bearer ${await new CompactSign(new TextEncoder().encode("not json"))
          .setProtectedHeader({ alg: "HS256" })
          .sign(secret)}`,
      message: "Fail to parse JWT token",
    },
    {
      name: "expired (beyond the leeway)",
      header: async () => `Bearer ${await hs256({ exp: now() - 60 })}`,
      message: "Token is expired",
    },
    {
      name: "not yet valid (beyond the leeway)",
      header: async () => `Bearer ${await hs256({ nbf: now() + 60 })}`,
      message: "Token is not valid yet",
    },
    {
      name: "wrong signature",
      header: async () =>
        `Bearer ${await hs256({ sub: "a" }, new TextEncoder().encode("another-secret-of-32-bytes-or-more!"))}`,
      message: "Token is invalid: signature verification failed",
    },
    {
      name: "tampered payload",
      header: async () => {
        const [h, , s] = (await hs256({ sub: "alice" })).split(".");
        const forged = base64url.encode(JSON.stringify({ sub: "admin" }));
        return `Bearer ${h ?? ""}.${forged}.${s ?? ""}`;
      },
      message: "Token is invalid: signature verification failed",
    },
    {
      name: "alg none",
      header: () => {
        const h = base64url.encode(JSON.stringify({ alg: "none", typ: "JWT" }));
        const p = base64url.encode(JSON.stringify({ sub: "admin" }));
        return Promise.resolve(`Bearer ${h}.${p}.`);
      },
      message: "Wrong signing method",
    },
    {
      name: "HS512 when only HS256 is accepted",
      header: async () =>
        `Bearer ${await new SignJWT({}).setProtectedHeader({ alg: "HS512" }).sign(secret)}`,
      message: "Wrong signing method",
    },
  ];

  for (const c of cases) {
    it(`rejects: ${c.name}`, async () => {
      const header = await c.header();
      await rejects401(serve(options, header), c.message, header?.replace(/^\S+ */, "") ?? "");
    });
  }

  it("allows a small clock skew (5 s by default) and honours clockTolerance", async (t) => {
    // Tokens 2 s off either side of a clock that stands still: on the real clock, a verification
    // that ran more than ~3 s after signing (a busy machine) saw the "late" one as expired.
    t.mock.timers.enable({ apis: ["Date"], now: Date.now() });
    const late = await hs256({ sub: "a", exp: now() - 2 });
    const early = await hs256({ sub: "a", nbf: now() + 2 });
    assert.equal(((await serve(options, `Bearer ${late}`)) as JWTPayload).sub, "a");
    assert.equal(((await serve(options, `Bearer ${early}`)) as JWTPayload).sub, "a");
    await rejects401(
      serve({ key: secret, clockTolerance: 0 }, `Bearer ${late}`),
      "Token is expired",
    );
    const older = await hs256({ sub: "a", exp: now() - 60 });
    assert.equal(
      ((await serve({ key: secret, clockTolerance: "2m" }, `Bearer ${older}`)) as JWTPayload).sub,
      "a",
    );
  });

  it("checks issuer and audience", async () => {
    const token = await hs256({ iss: "auth.example", aud: "greeter" });
    const ok = { key: secret, issuer: "auth.example", audience: ["greeter", "other"] };
    assert.equal(((await serve(ok, `Bearer ${token}`)) as JWTPayload).iss, "auth.example");
    await rejects401(
      serve({ key: secret, issuer: "evil" }, `Bearer ${token}`),
      'Token is invalid: the "iss" claim check failed',
    );
    await rejects401(
      serve({ key: secret, audience: "billing" }, `Bearer ${token}`),
      'Token is invalid: the "aud" claim check failed',
    );
  });

  it("runs custom claim checks: errors become 401, a KratosError is passed on", async () => {
    const token = await hs256({ sub: "bob", role: "user" });
    const claims = (payload: JWTPayload) => {
      if (payload.sub !== "alice") throw new Error("only alice may call");
    };
    await rejects401(
      serve({ key: secret, claims }, `Bearer ${token}`),
      "Token is invalid: only alice may call",
    );
    const revoked = async (payload: JWTPayload) => {
      await Promise.resolve();
      if (payload.sub === "bob") throw new Error("the token was revoked");
    };
    await rejects401(
      serve({ key: secret, claims: revoked }, `Bearer ${token}`),
      "Token is invalid: the token was revoked",
    );
    const roles = (payload: JWTPayload) => {
      if (payload["role"] !== "admin") throw forbidden("NOT_ADMIN", "admins only");
    };
    await assert.rejects(serve({ key: secret, claims: roles }, `Bearer ${token}`), {
      code: 403,
      reason: "NOT_ADMIN",
    });
  });

  it("sends the HTTP challenge (RFC 6750) with its 401s, not with a 403 of a claims check", async () => {
    const challenge = async (authorization: string | undefined, opts = options) => {
      const ctx = serverCtx(authorization);
      await assert.rejects(jwt.server(opts)(echoClaims)(ctx, {}));
      return serverTransport(ctx)?.replyHeader.get("www-authenticate");
    };
    assert.equal(await challenge(undefined), "Bearer");
    assert.equal(await challenge("Bearer x.y.z"), 'Bearer error="invalid_token"');
    const token = await hs256({});
    const deny = () => {
      throw forbidden("NOT_ADMIN", "admins only");
    };
    assert.equal(await challenge(`Bearer ${token}`, { key: secret, claims: deny }), undefined);
  });

  it("fails closed without a server transport", async () => {
    await rejects401(
      jwt.server(options)(echoClaims)(createContext(), {}),
      "Wrong context for middleware",
    );
  });

  it("refuses ambiguous or unsafe options at construction", async () => {
    const { publicKey } = await generateKeyPair("RS256");
    assert.throws(() => jwt.server({}), TypeError);
    assert.throws(() => jwt.server({ key: secret, jwks: { keys: [] } }), TypeError);
    // An asymmetric key or a JWKS must name its algorithms: no silent HS256 default.
    assert.throws(() => jwt.server({ key: publicKey }), /algorithms/);
    assert.throws(() => jwt.server({ jwks: { keys: [] } }), /algorithms/);
  });
});

/** Signs with `jwt.client` for a client-side context and returns the header it set. */
async function clientHeader(
  options: Parameters<typeof jwt.client>[0],
  ctx: Context = createContext(),
): Promise<string> {
  const t = transport("/helloworld.v1.Greeter/SayHello");
  setClientTransport(ctx, t);
  await jwt.client(options)(() => Promise.resolve(undefined))(ctx, {});
  const header = t.requestHeader.get("authorization");
  assert.ok(header !== undefined);
  return header;
}

describe("jwt key types", () => {
  for (const alg of ["RS256", "ES256", "EdDSA", "PS256"] as const) {
    it(`verifies ${alg} tokens signed by jwt.client, and refuses HS256 ones`, async () => {
      const { privateKey, publicKey } = await generateKeyPair(alg);
      const header = await clientHeader({ key: privateKey, algorithm: alg, claims: { sub: alg } });
      const options = { key: publicKey, algorithms: [alg] };
      assert.equal(((await serve(options, header)) as JWTPayload).sub, alg);
      // An HS256 token (the classic key-confusion attack signs it with the public key bytes).
      const hs = await hs256({ sub: "admin" });
      await rejects401(serve(options, `Bearer ${hs}`), "Wrong signing method", hs);
    });
  }

  it("takes Node.js KeyObjects", async () => {
    const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const header = await clientHeader({
      key: privateKey,
      algorithm: "ES256",
      claims: { sub: "k" },
    });
    assert.equal(
      ((await serve({ key: publicKey, algorithms: ["ES256"] }, header)) as JWTPayload).sub,
      "k",
    );
  });

  it("verifies RS256 tokens with a key of another pair as a bad signature", async () => {
    const a = await generateKeyPair("RS256");
    const b = await generateKeyPair("RS256");
    const header = await clientHeader({ key: a.privateKey, algorithm: "RS256", claims: {} });
    await rejects401(
      serve({ key: b.publicKey, algorithms: ["RS256"] }, header),
      "Token is invalid: signature verification failed",
    );
  });
});

describe("jwt with a JWKS", () => {
  let privateKey: CryptoKey;
  let jwk: JWK;

  before(async () => {
    const pair = await generateKeyPair("ES256");
    privateKey = pair.privateKey;
    jwk = { ...(await exportJWK(pair.publicKey)), kid: "k1", alg: "ES256", use: "sig" };
  });

  it("picks the key by kid from a local key set or a jose getter", async () => {
    const header = await clientHeader({
      key: privateKey,
      algorithm: "ES256",
      kid: "k1",
      claims: { sub: "jwks" },
    });
    for (const jwks of [{ keys: [jwk] }, createLocalJWKSet({ keys: [jwk] })]) {
      assert.equal(
        ((await serve({ jwks, algorithms: ["ES256"] }, header)) as JWTPayload).sub,
        "jwks",
      );
    }
    const unknown = await clientHeader({
      key: privateKey,
      algorithm: "ES256",
      kid: "k9",
      claims: {},
    });
    await rejects401(
      serve({ jwks: { keys: [jwk] }, algorithms: ["ES256"] }, unknown),
      "Token is invalid: no verification key matches it",
    );
  });

  describe("from a URL", () => {
    const server = createServer((_req, res) => {
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ keys: [jwk] }));
    });
    let url: URL;

    before(async () => {
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`);
    });

    after(async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => {
        server.close((err) => {
          if (err === undefined) resolve();
          else reject(err);
        });
      });
    });

    it("fetches the remote key set", async () => {
      const header = await clientHeader({
        key: privateKey,
        algorithm: "ES256",
        kid: "k1",
        claims: { sub: "remote" },
      });
      const options = { jwks: url, algorithms: ["ES256"] };
      assert.equal(((await serve(options, header)) as JWTPayload).sub, "remote");
    });
  });
});

describe("jwt.client", () => {
  it("signs a fresh token per call with the context's claims and a default lifetime", async () => {
    const ctx = createContext();
    const claims = (c: Context) => ({ sub: c === ctx ? "same-ctx" : "other" });
    const first = await clientHeader({ key: secret, claims }, ctx);
    const payload = (await serve({ key: secret }, first)) as JWTPayload;
    assert.equal(payload.sub, "same-ctx");
    assert.equal((payload.exp ?? 0) - (payload.iat ?? 0), 300);
    const second = await clientHeader({ key: secret, claims: { sub: "x", jti: "1" } });
    const third = await clientHeader({ key: secret, claims: { sub: "x", jti: "2" } });
    assert.notEqual(second, third);
  });

  it("keeps the claims' own exp and honours expiresIn", async () => {
    const exp = now() + 1000;
    const own = await clientHeader({ key: secret, claims: { exp } });
    assert.equal(((await serve({ key: secret }, own)) as JWTPayload).exp, exp);
    const short = await clientHeader({ key: secret, claims: {}, expiresIn: 60 });
    const p = (await serve({ key: secret }, short)) as JWTPayload;
    assert.equal((p.exp ?? 0) - (p.iat ?? 0), 60);
  });

  it("lets an error of the claims function reach the caller unchanged", async () => {
    const boom = new Error("no user in this context");
    const claims = (): JWTPayload => {
      throw boom;
    };
    await assert.rejects(clientHeader({ key: secret, claims }), (err) => err === boom);
  });

  it("fails with 401 when the key does not fit the algorithm, or without a transport", async () => {
    const { privateKey } = await generateKeyPair("RS256");
    await rejects401(
      clientHeader({ key: privateKey, algorithm: "HS256", claims: {} }),
      "Can not sign JWT token: is the key right for the algorithm?",
    );
    await rejects401(
      jwt.client({ key: secret, claims: {} })(() => Promise.resolve(undefined))(
        createContext(),
        {},
      ),
      "Wrong context for middleware",
    );
  });
});

describe("jwt with selector exemptions", () => {
  const exempt = new Set(["/grpc.health.v1.Health/Check", "/auth.v1.Auth/Login"]);
  const guarded = selector.server({
    middleware: [jwt.server({ key: secret })],
    match: (operation) => !exempt.has(operation),
  })(echoClaims);

  it("lets health and login through without a token, guards the rest", async () => {
    assert.equal(
      await guarded(serverCtx(undefined, "/grpc.health.v1.Health/Check"), {}),
      undefined,
    );
    assert.equal(await guarded(serverCtx(undefined, "/auth.v1.Auth/Login"), {}), undefined);
    await rejects401(guarded(serverCtx(undefined), {}), "JWT token is missing");
    const token = await hs256({ sub: "alice" });
    assert.equal(((await guarded(serverCtx(`Bearer ${token}`), {})) as JWTPayload).sub, "alice");
  });
});
