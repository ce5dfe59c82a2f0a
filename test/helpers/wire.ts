// Bytes on the wire for the hostile-input tests: raw sockets, HTTP/1.1 text, gRPC envelopes and
// HTTP/2 requests whose every part the test chooses.
import http2 from "node:http2";
import type { ClientHttp2Session, OutgoingHttpHeaders } from "node:http2";
import net from "node:net";
import type { Socket } from "node:net";

/** Opens a TCP connection to a loopback port. */
export function connect(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1", () => {
      socket.off("error", reject);
      resolve(socket);
    });
    socket.once("error", reject);
  });
}

/** What a socket received until it closed, or until the wait ran out. */
export interface Received {
  data: Buffer;
  /** The peer closed (or reset) the connection. */
  closed: boolean;
}

/**
 * Collects what `socket` receives until it closes, or `timeoutMs` passes (then `closed` is
 * false and the socket is left open).
 */
export function receive(socket: Socket, timeoutMs: number): Promise<Received> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const onData = (chunk: Buffer) => chunks.push(chunk);
    const finish = (closed: boolean) => {
      clearTimeout(timer);
      socket.off("data", onData);
      socket.off("close", onClose);
      resolve({ data: Buffer.concat(chunks), closed });
    };
    const onClose = () => {
      finish(true);
    };
    const timer = setTimeout(() => {
      finish(false);
    }, timeoutMs);
    socket.on("error", () => undefined);
    socket.on("data", onData);
    if (socket.destroyed) finish(true);
    else socket.once("close", onClose);
  });
}

/** Resolves when `socket` closes, with how many ms that took; rejects after `timeoutMs`. */
export function closedWithin(socket: Socket, timeoutMs: number): Promise<number> {
  const start = Date.now();
  return receive(socket, timeoutMs).then(({ closed }) => {
    if (!closed) throw new Error(`the server kept the connection open for ${timeoutMs} ms`);
    return Date.now() - start;
  });
}

/**
 * Writes `piece` over and over, up to `total` bytes counted in `pieceBytes`, until the server
 * stops reading (backpressure that `answered` settles first) or closes. Resolves with the bytes
 * written: fewer than `total` means the server did not read the whole body.
 */
export async function writeUntilStopped(
  socket: Socket,
  piece: Buffer,
  total: number,
  answered: Promise<unknown>,
  pieceBytes = piece.length,
): Promise<number> {
  let written = 0;
  while (written < total && !socket.destroyed) {
    written += pieceBytes;
    if (!socket.write(piece)) {
      const go = await Promise.race([
        new Promise<boolean>((resolve) => {
          socket.once("drain", () => {
            resolve(true);
          });
        }),
        answered.then(() => false),
      ]);
      if (!go) break;
    }
  }
  return written;
}

/** Sends raw HTTP/1.1 text and collects the answer until the server closes. */
export async function rawHttp(port: number, text: string, timeoutMs = 5_000): Promise<Received> {
  const socket = await connect(port);
  socket.write(text);
  return receive(socket, timeoutMs);
}

/** The status code and body of the first response in raw HTTP/1.1 bytes. */
export function parseResponse(data: Buffer): { status: number; head: string; body: string } {
  const text = data.toString("latin1");
  const end = text.indexOf("\r\n\r\n");
  const head = end < 0 ? text : text.slice(0, end);
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
  return { status, head, body: end < 0 ? "" : data.subarray(end + 4).toString("utf8") };
}

/** One gRPC / Connect envelope. */
export function envelope(message: Uint8Array, flags = 0): Buffer {
  const out = Buffer.alloc(5 + message.byteLength);
  out[0] = flags;
  out.writeUInt32BE(message.byteLength, 1);
  out.set(message, 5);
  return out;
}

/** The 9-byte header of an HTTP/2 frame. */
export function frameHeader(length: number, type: number, flags: number, streamId: number): Buffer {
  const out = Buffer.alloc(9);
  out.writeUIntBE(length, 0, 3);
  out[3] = type;
  out[4] = flags;
  out.writeUInt32BE(streamId & 0x7fffffff, 5);
  return out;
}

/** The HTTP/2 connection preface a client sends first. */
export const h2Preface = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");

/** An HTTP/2 frame: header and payload. */
export function frame(type: number, flags: number, streamId: number, payload: Uint8Array): Buffer {
  return Buffer.concat([frameHeader(payload.byteLength, type, flags, streamId), payload]);
}

/** HPACK "literal header field without indexing, new name" for each pair (names in lower case). */
export function hpack(headers: Record<string, string>): Buffer {
  const parts: Buffer[] = [];
  const string = (text: string) => {
    const bytes = Buffer.from(text, "latin1");
    if (bytes.length > 126) throw new Error("hpack: strings over 126 bytes are not encoded here");
    return Buffer.concat([Buffer.from([bytes.length]), bytes]);
  };
  for (const [name, value] of Object.entries(headers)) {
    parts.push(Buffer.from([0]), string(name), string(value));
  }
  return Buffer.concat(parts);
}

/** Frame types and flags the tests write by hand. */
export const h2 = {
  data: 0x0,
  headers: 0x1,
  rstStream: 0x3,
  settings: 0x4,
  goaway: 0x7,
  endStream: 0x1,
  endHeaders: 0x4,
} as const;

/**
 * The bytes of a client connection that opens stream 1 with a gRPC request to `path` and sends
 * `data` without ending the stream: preface, SETTINGS, HEADERS, DATA, in one write.
 */
export function rawGrpcOpening(path: string, data: Uint8Array): Buffer {
  const headers = hpack({
    ":method": "POST",
    ":scheme": "http",
    ":path": path,
    ":authority": "127.0.0.1",
    "content-type": "application/grpc",
    te: "trailers",
  });
  return Buffer.concat([
    h2Preface,
    frame(h2.settings, 0, 0, new Uint8Array()),
    frame(h2.headers, h2.endHeaders, 1, headers),
    frame(h2.data, 0, 1, data),
  ]);
}

/** The types of the HTTP/2 frames in `data` (after any preface), in order. */
export function frameTypes(data: Buffer): number[] {
  const types: number[] = [];
  for (let at = 0; at + 9 <= data.length; at += 9 + data.readUIntBE(at, 3)) {
    types.push(data.readUInt8(at + 3));
  }
  return types;
}

/** A RST_STREAM frame for stream 1 with `code`. */
export function rawReset(code: number): Buffer {
  const payload = Buffer.alloc(4);
  payload.writeUInt32BE(code);
  return frame(h2.rstStream, 0, 1, payload);
}

/** An HTTP/2 client session over a socket the test keeps (to write raw bytes, or reset it). */
export async function h2Session(
  port: number,
): Promise<{ session: ClientHttp2Session; socket: Socket }> {
  const socket = await connect(port);
  const session = http2.connect(`http://127.0.0.1:${port}`, { createConnection: () => socket });
  session.on("error", () => undefined);
  return { session, socket };
}

/** What an HTTP/2 request got back. */
export interface H2Answer {
  status: number;
  headers: http2.IncomingHttpHeaders;
  trailers: http2.IncomingHttpHeaders;
  data: Buffer;
  /** The stream's RST_STREAM code (0: closed normally, or reset with NO_ERROR). */
  rstCode: number;
}

/** Sends one request (headers, optional body) and collects the answer until the stream closes. */
export function h2Request(
  session: ClientHttp2Session,
  headers: OutgoingHttpHeaders,
  body?: Uint8Array,
  timeoutMs = 5_000,
): Promise<H2Answer> {
  return new Promise((resolve, reject) => {
    const stream = session.request(headers, { endStream: body === undefined });
    const answer: H2Answer = {
      status: 0,
      headers: {},
      trailers: {},
      data: Buffer.alloc(0),
      rstCode: 0,
    };
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      stream.close(http2.constants.NGHTTP2_CANCEL);
      reject(new Error(`no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    stream.on("error", () => undefined);
    stream.on("response", (h) => {
      answer.status = Number(h[":status"]);
      answer.headers = h;
    });
    stream.on("trailers", (t: http2.IncomingHttpHeaders) => {
      answer.trailers = t;
    });
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.on("close", () => {
      clearTimeout(timer);
      answer.data = Buffer.concat(chunks);
      answer.rstCode = stream.rstCode;
      resolve(answer);
    });
    if (body !== undefined) stream.end(body);
  });
}

/** Headers of a gRPC request to `path`. */
export function grpcHeaders(path: string, extra: OutgoingHttpHeaders = {}): OutgoingHttpHeaders {
  return {
    ":method": "POST",
    ":path": path,
    "content-type": "application/grpc",
    te: "trailers",
    ...extra,
  };
}

/** The gRPC status of an answer: its trailers', or its headers' for a trailers-only answer. */
export function grpcStatus(answer: H2Answer): number {
  return Number(answer.trailers["grpc-status"] ?? answer.headers["grpc-status"] ?? -1);
}
