// One HTTP/1.1 case on a raw socket, shared by the HTTP port and the gRPC port's HTTP/1.1
// side: framing mutations (Content-Length, chunked), split writes, how the client ends the
// connection, and the judging of every response that comes back.
import type { CaseInput, CaseOutcome } from "./family.js";
import { parseResponses } from "./http1-wire.js";
import type { Http1Request } from "./http1-wire.js";
import type { Prng } from "./prng.js";
import { rawExchange } from "./raw-socket.js";
import type { EndMode } from "./raw-socket.js";
import { serverErrorIn, showBytes } from "./verdict.js";

/** Replaces a header (any case) with one value. */
export function setHeader(req: Http1Request, name: string, value: string): void {
  req.headers = req.headers.filter(([n]) => n.toLowerCase() !== name.toLowerCase());
  req.headers.push([name, value]);
}

/** Sets Content-Length to the body's length, when the request has one. */
export function fixLength(req: Http1Request): void {
  if (req.headers.some(([n]) => n === "Content-Length"))
    setHeader(req, "Content-Length", String(req.body.byteLength));
}

/** Content-Length and Transfer-Encoding games; returns a label. */
export function framing(rng: Prng, req: Http1Request): string {
  const length = req.body.byteLength;
  const kind = rng.int(0, 5);
  if (kind === 0) {
    const declared = String(length + rng.pick([1, 100, -1, 1 << 30]));
    setHeader(req, "Content-Length", declared);
    return `content-length ${declared} for ${length} bytes`;
  }
  if (kind === 1) {
    req.headers.push(["Content-Length", String(length + 1)]);
    return "two content-lengths";
  }
  if (kind === 2) {
    const declared = rng.pick(["-1", "1 2", "0x10", "", "99999999999999999999"]);
    setHeader(req, "Content-Length", declared);
    return `content-length ${JSON.stringify(declared)}`;
  }
  // Chunked, with or without a Content-Length beside it, chunks good or bad.
  req.headers = req.headers.filter(([n]) => n !== "Content-Length" || kind === 3);
  const te = rng.pick(["chunked", "chunked", "gzip, chunked", "chunked, identity", "xchunked"]);
  req.headers.push(["Transfer-Encoding", te]);
  const size = rng.pick([
    length.toString(16),
    "zz",
    "-1",
    "ffffffffffffffff",
    `${length.toString(16)};ext=1`,
  ]);
  const end = rng.pick(["0\r\n\r\n", "0\r\n", "", "0\r\nX: y\r\n\r\n"]);
  const crlf = rng.chance(0.9) ? "\r\n" : "";
  req.body = Buffer.concat([Buffer.from(`${size}\r\n`), req.body, Buffer.from(crlf + end)]);
  return `transfer-encoding ${te}${kind === 3 ? " + content-length" : ""}, chunk size ${size}, end ${JSON.stringify(end)}`;
}

/** Splits bytes into 1-4 writes at random points. */
export function split(rng: Prng, bytes: Buffer): Buffer[] {
  if (!rng.chance(0.3) || bytes.length < 2) return [bytes];
  const cuts = [
    ...new Set(Array.from({ length: rng.int(1, 3) }, () => rng.int(1, bytes.length - 1))),
  ].sort((a, b) => a - b);
  return [0, ...cuts].map((start, i) => bytes.subarray(start, cuts[i] ?? bytes.length));
}

/** How the client ends its side. */
export function endMode(rng: Prng): EndMode {
  return rng.pick<EndMode>([
    "keep",
    "keep",
    "keep",
    "half-close",
    "half-close",
    "destroy",
    "reset",
  ]);
}

/** What {@link runHttp1Case} sends and how it judges the answers. */
export interface Http1Case {
  input: CaseInput;
  port: number;
  bytes: Buffer;
  /** The mutations so far; the end mode is added. */
  labels: string[];
  /** The first request is HEAD: its answer has no body. */
  headRequest: boolean;
  /** Requests in `bytes` (pipelined), so answers to wait for. Default 1. */
  requests?: number;
  /** RPC statuses inside an answer body (gRPC port). Default: none looked for. */
  judgeBody?: (
    contentType: string,
    body: Buffer,
  ) => { grpcCodes: number[]; connectCodes: string[] };
  /** The request carried its own deadline (a 504 is then fine). */
  deadline?: boolean;
}

const noCodes = () => ({ grpcCodes: [], connectCodes: [] });

/** Runs one mutated exchange on an HTTP/1.1 port and judges every answer in it. */
export async function runHttp1Case(c: Http1Case): Promise<CaseOutcome> {
  const { rng } = c.input;
  const requests = c.requests ?? 1;
  const judgeBody = c.judgeBody ?? noCodes;
  const end = endMode(rng);
  c.labels.push(`end=${end}`);
  const complete = (data: Buffer) => {
    const responses = parseResponses(data, false, c.headRequest);
    return responses.length >= requests && responses.every((r) => r.complete);
  };
  const result = await rawExchange(c.port, split(rng, c.bytes), end, c.input.capMs, complete);
  let failure: string | undefined;
  const responses = parseResponses(result.data, result.closedByServer, c.headRequest);
  const seen = [
    ...responses.map((r) => String(r.status)),
    ...(result.closedByServer ? ["closed"] : []),
    ...(result.error === undefined ? [] : [result.error]),
  ].join(" ");
  for (const response of responses) {
    // A cut body proves nothing about the status inside it.
    const codes = response.complete
      ? judgeBody(response.headers.get("content-type") ?? "", response.body)
      : noCodes();
    const why = serverErrorIn({ status: response.status, ...codes }, c.deadline ?? false);
    if (why !== undefined && failure === undefined) {
      failure = `${why}; answer body: ${showBytes(response.body, 300)}`;
    }
  }
  return { label: c.labels.join(", "), sent: showBytes(c.bytes), seen, failure };
}
