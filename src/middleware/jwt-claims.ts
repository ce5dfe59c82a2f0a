// The verified claims of a call, apart from the jwt middleware itself: middleware that only
// reads them (quota keys, authz rules, governance) must not load jose, a verifier it never runs.
import type { JWTPayload } from "jose";
import { createContextKey } from "../context.js";
import type { Context } from "../context.js";

/** Where `jwt.server` puts the claims of the token it verified. */
export const claimsKey = createContextKey<JWTPayload | undefined>(undefined, "jwt claims");

/** The claims of the token `jwt.server` verified for this call, or undefined. */
export function jwtClaims(ctx: Context): JWTPayload | undefined {
  return ctx.values.get(claimsKey);
}
