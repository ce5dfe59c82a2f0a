// HTTP/1.1 on the wire, by hand: a request as parts the mutators can bend (method, target,
// version, header lines, body), its serialization, and a lenient parser of the responses that
// come back, which only reports what it could read with certainty.

/** A request before serialization; header lines are kept raw so they can be malformed. */
export interface Http1Request {
  method: string;
  target: string;
  version: string;
  headers: [string, string][];
  body: Buffer;
}

/** Serializes a request exactly as given (no Content-Length is added here). */
export function serializeRequest(req: Http1Request): Buffer {
  const head = [`${req.method} ${req.target} ${req.version}`];
  for (const [name, value] of req.headers) head.push(`${name}: ${value}`);
  return Buffer.concat([Buffer.from(`${head.join("\r\n")}\r\n\r\n`, "latin1"), req.body]);
}

/** A request with the usual framing headers for its body. */
export function request(
  method: string,
  target: string,
  headers: [string, string][],
  body: Buffer = Buffer.alloc(0),
): Http1Request {
  const all: [string, string][] = [["Host", "127.0.0.1"], ...headers];
  if (body.byteLength > 0 || method === "POST" || method === "PUT" || method === "PATCH") {
    all.push(["Content-Length", String(body.byteLength)]);
  }
  return { method, target, version: "HTTP/1.1", headers: all, body };
}

/** One parsed response. */
export interface Http1Response {
  status: number;
  headers: Map<string, string>;
  body: Buffer;
  /** Whether the whole body was read (by length, chunks, or close). */
  complete: boolean;
}

const crlf2 = Buffer.from("\r\n\r\n");

/**
 * The responses in `data`, in order. Parsing stops at the first thing that is not a response
 * head or at an incomplete body; `closed` says the connection has ended (a body without length
 * then runs to the end). `headRequest`: the first request was HEAD (its response has no body).
 */
export function parseResponses(
  data: Buffer,
  closed: boolean,
  headRequest = false,
): Http1Response[] {
  const out: Http1Response[] = [];
  let offset = 0;
  while (offset < data.length) {
    const headEnd = data.indexOf(crlf2, offset);
    if (headEnd < 0) break;
    const lines = data.subarray(offset, headEnd).toString("latin1").split("\r\n");
    const m = /^HTTP\/1\.[01] (\d{3})(?: |$)/.exec(lines[0] ?? "");
    if (m === null) break;
    const status = Number(m[1]);
    const headers = new Map<string, string>();
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(":");
      if (colon > 0)
        headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }
    let cursor = headEnd + 4;
    if (status >= 100 && status < 200) {
      // Interim responses (100 Continue) have no body and precede the real one.
      offset = cursor;
      continue;
    }
    const noBody = status === 204 || status === 304 || (headRequest && out.length === 0);
    let body: Buffer = Buffer.alloc(0);
    let complete = true;
    if (noBody) {
      // Nothing to read.
    } else if (/chunked/i.test(headers.get("transfer-encoding") ?? "")) {
      const chunked = readChunked(data, cursor);
      body = chunked.body;
      complete = chunked.complete;
      cursor = chunked.end;
    } else if (headers.has("content-length")) {
      const length = Number(headers.get("content-length"));
      body = data.subarray(cursor, cursor + length);
      complete = body.length === length;
      cursor += body.length;
    } else {
      body = data.subarray(cursor);
      complete = closed;
      cursor = data.length;
    }
    out.push({ status, headers, body, complete });
    if (!complete) break;
    offset = cursor;
  }
  return out;
}

/** Reads a chunked body starting at `start`. */
function readChunked(
  data: Buffer,
  start: number,
): { body: Buffer; complete: boolean; end: number } {
  const parts: Buffer[] = [];
  let cursor = start;
  for (;;) {
    const lineEnd = data.indexOf("\r\n", cursor);
    if (lineEnd < 0) break;
    const size = parseInt(data.subarray(cursor, lineEnd).toString("latin1"), 16);
    if (Number.isNaN(size)) break;
    if (size === 0) {
      // Trailers (none expected from the kit) end with an empty line.
      const trailerEnd = data.indexOf(crlf2, lineEnd);
      const end = trailerEnd === lineEnd ? lineEnd + 4 : trailerEnd < 0 ? -1 : trailerEnd + 4;
      if (end < 0) break;
      return { body: Buffer.concat(parts), complete: true, end };
    }
    const chunkStart = lineEnd + 2;
    if (data.length < chunkStart + size + 2) break;
    parts.push(data.subarray(chunkStart, chunkStart + size));
    cursor = chunkStart + size + 2;
  }
  return { body: Buffer.concat(parts), complete: false, end: data.length };
}
