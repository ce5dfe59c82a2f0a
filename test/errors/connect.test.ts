import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code, ConnectError } from "@connectrpc/connect";
import { errorFromJsonBytes, errorToJsonBytes } from "@connectrpc/connect/protocol-connect";
import * as errors from "kratos-ts/errors";
import { KratosError } from "kratos-ts/errors";

/** Sends an error through the Connect protocol's JSON error body, as connect-node does. */
function overTheWire(err: ConnectError): ConnectError {
  const bytes = errorToJsonBytes(err, {});
  return errorFromJsonBytes(bytes, undefined, new ConnectError("fallback", Code.Internal));
}

describe("ConnectError conversion", () => {
  const cases = [
    {
      err: errors.notFound("USER_NOT_FOUND", "no user", { metadata: { id: "1" } }),
      code: Code.NotFound,
    },
    { err: errors.badRequest("VALIDATOR", "bad"), code: Code.InvalidArgument },
    { err: errors.clientClosed("", "gone"), code: Code.Canceled },
    { err: new KratosError(422, "UNPROCESSABLE", "nope"), code: Code.Unknown },
    { err: new KratosError(502, "UPSTREAM", "bad gateway"), code: Code.Unknown },
    // A "200 error" still fails the call: Connect has no OK code.
    { err: new KratosError(200, "ODD", "odd"), code: Code.Unknown },
  ];
  for (const { err, code } of cases) {
    it(`maps ${err.code} ${err.reason} to code ${Code[code]} and back over the Connect wire`, () => {
      const ce = errors.toConnectError(err);
      assert.equal(ce.code, code);
      assert.equal(ce.rawMessage, err.message);
      assert.equal(ce.cause, err);
      const back = errors.fromConnectError(overTheWire(ce));
      const expected = err.code === 200 ? 500 : err.code;
      assert.deepEqual(back.toStatus(), { ...err.toStatus(), code: expected });
    });
  }

  it("returns the original error when the ConnectError was made locally", () => {
    const err = errors.conflict("C", "m");
    assert.equal(errors.fromConnectError(errors.toConnectError(err)), err);
  });

  it("reads a ConnectError without details as an empty reason", () => {
    const err = errors.fromError(new ConnectError("upstream down", Code.Unavailable));
    assert.deepEqual(err.toStatus(), {
      code: 503,
      reason: "",
      message: "upstream down",
      metadata: {},
    });
  });
});
