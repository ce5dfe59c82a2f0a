// What counts as a server error in an answer to a mutated request. Every mutated request is a
// client error or a valid request, so a server error in the answer is a bug - except where
// the protocol itself says the status is about the client:
// - 501 Not Implemented (unknown methods, unsupported encodings: UNIMPLEMENTED),
// - 505 HTTP Version Not Supported (gRPC over HTTP/1.1, as connect-go answers),
// - 504 / DEADLINE_EXCEEDED when the request carried its own deadline (grpc-timeout,
//   connect-timeout-ms), which a fuzzer may set to a nanosecond.
// gRPC statuses UNKNOWN (2), INTERNAL (13) and DATA_LOSS (15) are server errors whatever the
// HTTP status, and so are the Connect codes with the same names.

/** gRPC codes that mean the server failed, not the request. */
const serverGrpcCodes = new Set([2, 13, 15]);
const serverConnectCodes = new Set(["unknown", "internal", "data_loss"]);

/** The RPC-level outcome found in an answer. */
export interface RpcOutcome {
  /** HTTP status (HTTP/1.1 status line or HTTP/2 `:status`). */
  status: number | undefined;
  /** `grpc-status` values from headers, trailers or gRPC-Web trailer frames. */
  grpcCodes: number[];
  /** Connect error codes from a unary error body or an end-stream message. */
  connectCodes: string[];
}

/** Why the outcome is a server error answered to a client, or undefined when it is fine. */
export function serverErrorIn(
  outcome: RpcOutcome,
  requestHadDeadline: boolean,
): string | undefined {
  const { status } = outcome;
  if (status !== undefined && status >= 500) {
    const allowed = status === 501 || status === 505 || (status === 504 && requestHadDeadline);
    if (!allowed) return `HTTP status ${status}`;
  }
  const grpc = outcome.grpcCodes.find((c) => serverGrpcCodes.has(c));
  if (grpc !== undefined) return `grpc-status ${grpc}`;
  const connect = outcome.connectCodes.find((c) => serverConnectCodes.has(c));
  if (connect !== undefined) return `Connect code "${connect}"`;
  return undefined;
}

/** Whether request bytes or headers carry a client deadline. */
export function hasDeadline(text: string): boolean {
  return /grpc-timeout|connect-timeout-ms/i.test(text);
}

/**
 * RPC statuses carried in a response body of the gRPC port: a Connect unary error (JSON), or
 * envelopes (Connect end-stream JSON with flag 0x02, gRPC-Web trailers with flag 0x80).
 */
export function rpcCodesInBody(
  contentType: string,
  body: Buffer,
): { grpcCodes: number[]; connectCodes: string[] } {
  const grpcCodes: number[] = [];
  const connectCodes: string[] = [];
  const type = contentType.toLowerCase();
  if (type.startsWith("application/json")) {
    const code = jsonField(body.toString("utf8"), (v) => v["code"]);
    if (typeof code === "string") connectCodes.push(code);
  } else if (type.startsWith("application/connect+") || type.startsWith("application/grpc-web")) {
    for (const { flags, data } of envelopes(body)) {
      if ((flags & 0x02) !== 0 && type.startsWith("application/connect+")) {
        const code = jsonField(data.toString("utf8"), (v) => {
          const error = v["error"];
          return typeof error === "object" && error !== null
            ? (error as Record<string, unknown>)["code"]
            : undefined;
        });
        if (typeof code === "string") connectCodes.push(code);
      }
      if ((flags & 0x80) !== 0) {
        const m = /^grpc-status:\s*(\d+)/im.exec(data.toString("latin1"));
        if (m !== null) grpcCodes.push(Number(m[1]));
      }
    }
  }
  return { grpcCodes, connectCodes };
}

/** The whole envelopes at the start of `body` (a truncated tail is ignored). */
function envelopes(body: Buffer): { flags: number; data: Buffer }[] {
  const out: { flags: number; data: Buffer }[] = [];
  let offset = 0;
  while (offset + 5 <= body.length) {
    const flags = body[offset] ?? 0;
    const length = body.readUInt32BE(offset + 1);
    if (offset + 5 + length > body.length) break;
    out.push({ flags, data: body.subarray(offset + 5, offset + 5 + length) });
    offset += 5 + length;
  }
  return out;
}

/** A field of a JSON object text, or undefined when the text is not a JSON object. */
function jsonField(text: string, get: (v: Record<string, unknown>) => unknown): unknown {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? get(value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** Printable form of request bytes for a failure report: escaped text and, for short, hex. */
export function showBytes(bytes: Buffer, max = 2048): string {
  const cut = bytes.subarray(0, max);
  const text = JSON.stringify(cut.toString("latin1"));
  const more = bytes.length > max ? ` ... (${bytes.length} bytes in all)` : "";
  return `${text}${more}\n    hex: ${cut.subarray(0, 512).toString("hex")}${cut.length > 512 ? "..." : ""}`;
}
