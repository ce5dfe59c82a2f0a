import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create, toBinary } from "@bufbuild/protobuf";
import { anyPack } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import * as errors from "kratos-ts/errors";
import { KratosError } from "kratos-ts/errors";
import { ErrorInfoSchema } from "kratos-ts/gen/google/rpc/error_details_pb.js";
import { StatusSchema } from "kratos-ts/gen/google/rpc/status_pb.js";
import { fromBinary } from "@bufbuild/protobuf";
import { anyUnpack } from "@bufbuild/protobuf/wkt";

// The tables of reference/kratos.md and Go Kratos transport/http/status.
const httpToGrpc: [number, number][] = [
  [200, 0],
  [400, Code.InvalidArgument],
  [401, Code.Unauthenticated],
  [403, Code.PermissionDenied],
  [404, Code.NotFound],
  [409, Code.Aborted],
  [429, Code.ResourceExhausted],
  [499, Code.Canceled],
  [500, Code.Internal],
  [501, Code.Unimplemented],
  [503, Code.Unavailable],
  [504, Code.DeadlineExceeded],
  [413, Code.ResourceExhausted],
  [412, Code.Unknown],
  [422, Code.Unknown],
  [502, Code.Unknown],
  [418, Code.Unknown],
];

const grpcToHttp: [number, number][] = [
  [0, 200],
  [Code.Canceled, 499],
  [Code.Unknown, 500],
  [Code.InvalidArgument, 400],
  [Code.DeadlineExceeded, 504],
  [Code.NotFound, 404],
  [Code.AlreadyExists, 409],
  [Code.PermissionDenied, 403],
  [Code.ResourceExhausted, 429],
  [Code.FailedPrecondition, 400],
  [Code.Aborted, 409],
  [Code.OutOfRange, 400],
  [Code.Unimplemented, 501],
  [Code.Internal, 500],
  [Code.Unavailable, 503],
  [Code.DataLoss, 500],
  [Code.Unauthenticated, 401],
  [99, 500],
];

describe("gRPC code mapping", () => {
  for (const [http, grpc] of httpToGrpc) {
    it(`HTTP ${http} -> gRPC ${grpc}`, () => {
      assert.equal(errors.grpcCodeFromHttp(http), grpc);
    });
  }
  for (const [grpc, http] of grpcToHttp) {
    it(`gRPC ${grpc} -> HTTP ${http}`, () => {
      assert.equal(errors.httpCodeFromGrpc(grpc), http);
    });
  }
});

/** Decodes grpc-status-details-bin the way a Go Kratos client does. */
function decodeDetails(details: Uint8Array) {
  const status = fromBinary(StatusSchema, details);
  assert.equal(status.details.length, 1);
  const any = status.details[0];
  assert.ok(any);
  assert.equal(any.typeUrl, "type.googleapis.com/google.rpc.ErrorInfo");
  const info = anyUnpack(any, ErrorInfoSchema);
  assert.ok(info);
  return { status, info };
}

describe("toGrpcStatus", () => {
  it("puts the reason and metadata in google.rpc.ErrorInfo, as Go Kratos does", () => {
    const err = errors.notFound("USER_NOT_FOUND", "no such user", { metadata: { id: "7" } });
    const st = errors.toGrpcStatus(err);
    assert.equal(st.code, Code.NotFound);
    assert.equal(st.message, "no such user");
    const { status, info } = decodeDetails(st.details);
    assert.equal(status.code, Code.NotFound);
    assert.equal(status.message, "no such user");
    assert.equal(info.reason, "USER_NOT_FOUND");
    assert.equal(info.domain, "");
    // Codes with a gRPC twin add nothing Go Kratos would not send.
    assert.deepEqual(info.metadata, { id: "7" });
  });

  it("carries codes without a gRPC twin in the ErrorInfo metadata", () => {
    const st = errors.toGrpcStatus(new KratosError(422, "UNPROCESSABLE", "bad"));
    assert.equal(st.code, Code.Unknown);
    const { info } = decodeDetails(st.details);
    assert.deepEqual(info.metadata, { [errors.httpCodeMetadataKey]: "422" });
  });
});

describe("gRPC round trip", () => {
  const codes = [
    400, 401, 403, 404, 409, 412, 413, 418, 422, 429, 499, 500, 501, 502, 503, 504, 507,
  ];
  for (const code of codes) {
    it(`keeps ${code}, reason and metadata`, () => {
      const sent = new KratosError(code, `R${code}`, `message ${code}`, { metadata: { a: "1" } });
      const got = errors.fromGrpcStatus(errors.toGrpcStatus(sent));
      assert.deepEqual(got.toStatus(), sent.toStatus());
    });
  }
});

describe("fromGrpcStatus", () => {
  it("reads a status sent by Go Kratos", () => {
    const details = toBinary(
      StatusSchema,
      create(StatusSchema, {
        code: Code.AlreadyExists,
        message: "exists",
        details: [
          anyPack(
            ErrorInfoSchema,
            create(ErrorInfoSchema, { reason: "DUP", metadata: { k: "v" } }),
          ),
        ],
      }),
    );
    const err = errors.fromGrpcStatus({ code: Code.AlreadyExists, message: "exists", details });
    assert.deepEqual(err.toStatus(), {
      code: 409,
      reason: "DUP",
      message: "exists",
      metadata: { k: "v" },
    });
  });

  it("gives an empty reason without ErrorInfo", () => {
    const err = errors.fromGrpcStatus({ code: Code.Unavailable, message: "down" });
    assert.deepEqual(err.toStatus(), { code: 503, reason: "", message: "down", metadata: {} });
  });

  it("ignores undecodable details instead of throwing", () => {
    const err = errors.fromGrpcStatus({
      code: Code.NotFound,
      message: "x",
      details: new Uint8Array([0xff, 0xff, 0xff]),
    });
    assert.deepEqual(err.toStatus(), { code: 404, reason: "", message: "x", metadata: {} });
  });

  it("takes the message from the details when grpc-message is empty", () => {
    const st = errors.toGrpcStatus(errors.conflict("C", "from details"));
    const err = errors.fromGrpcStatus({ code: st.code, details: st.details });
    assert.equal(err.message, "from details");
  });

  it("does not trust a carried code that contradicts the status code", () => {
    const details = toBinary(
      StatusSchema,
      create(StatusSchema, {
        code: Code.NotFound,
        details: [
          anyPack(
            ErrorInfoSchema,
            create(ErrorInfoSchema, {
              reason: "R",
              metadata: { [errors.httpCodeMetadataKey]: "422" },
            }),
          ),
        ],
      }),
    );
    const err = errors.fromGrpcStatus({ code: Code.NotFound, message: "m", details });
    assert.equal(err.code, 404);
    assert.equal(err.metadata[errors.httpCodeMetadataKey], "422");
  });
});

describe("fromError on gRPC client errors", () => {
  it("reads a @grpc/grpc-js ServiceError (code, details, grpc-status-details-bin)", () => {
    const st = errors.toGrpcStatus(errors.tooManyRequests("RATELIMIT", "slow down"));
    // The shape grpc-js gives callers: an Error with code, details and a Metadata.
    const serviceError = Object.assign(new Error("8 RESOURCE_EXHAUSTED: slow down"), {
      code: st.code,
      details: st.message,
      metadata: {
        get: (key: string) => (key === "grpc-status-details-bin" ? [Buffer.from(st.details)] : []),
      },
    });
    const err = errors.fromError(serviceError);
    assert.deepEqual(err.toStatus(), {
      code: 429,
      reason: "RATELIMIT",
      message: "slow down",
      metadata: {},
    });
    assert.equal(err.cause, serviceError);
  });
});
