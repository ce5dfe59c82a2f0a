import assert from "node:assert/strict";
import { KratosError } from "kratos-ts/errors";

/** A call's outcome as one comparable string: `200`, or the error's `<code> <reason>`. */
export async function outcome(call: Promise<unknown>): Promise<string> {
  try {
    await call;
    return "200";
  } catch (err) {
    assert.ok(err instanceof KratosError, String(err));
    return `${err.code} ${err.reason}`;
  }
}
