import { fromError } from "../../src/errors/from-error.js";
import { KratosError } from "../../src/errors/error.js";
import type { Middleware } from "../../src/middleware/middleware.js";

/**
 * What the layout's default chain costs until the middleware suite lands: a recovery-shaped
 * middleware (await, catch, convert to 500 UNKNOWN). The real recovery replaces it.
 */
export const recoveryLike: Middleware = (next) =>
  async function recovery(ctx, req) {
    try {
      return await next(ctx, req);
    } catch (err) {
      if (err instanceof KratosError) throw err;
      throw new KratosError(500, "UNKNOWN", fromError(err).message, { cause: err });
    }
  };
