// Raw HTTP/2 frames built by hand (RFC 9113 section 4, HPACK RFC 7541), so the fuzzer can send
// what no HTTP/2 client library would: wrong lengths, bad flags, frames on the wrong stream,
// half a preface.

/** The client connection preface. */
export const h2Preface = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");

/** Frame types. */
export const FrameType = {
  data: 0x0,
  headers: 0x1,
  priority: 0x2,
  rstStream: 0x3,
  settings: 0x4,
  pushPromise: 0x5,
  ping: 0x6,
  goaway: 0x7,
  windowUpdate: 0x8,
  continuation: 0x9,
} as const;

/** Frame flags (their meaning depends on the type). */
export const FrameFlag = {
  endStream: 0x1,
  ack: 0x1,
  endHeaders: 0x4,
  padded: 0x8,
  priority: 0x20,
} as const;

/** Error codes of RST_STREAM and GOAWAY (0x0 NO_ERROR .. 0xd HTTP_1_1_REQUIRED). */
export const errorCodes = [0x0, 0x1, 0x2, 0x3, 0x4, 0x5, 0x6, 0x7, 0x8, 0x9, 0xa, 0xb, 0xc, 0xd];

/** Settings identifiers. */
export const Setting = {
  headerTableSize: 0x1,
  enablePush: 0x2,
  maxConcurrentStreams: 0x3,
  initialWindowSize: 0x4,
  maxFrameSize: 0x5,
  maxHeaderListSize: 0x6,
} as const;

/**
 * One frame. `declaredLength` overrides the length field, so a frame can claim more (or less)
 * payload than it carries.
 */
export function frame(
  type: number,
  flags: number,
  streamId: number,
  payload: Uint8Array = Buffer.alloc(0),
  declaredLength = payload.byteLength,
): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(declaredLength & 0xffffff, 0, 3);
  head[3] = type & 0xff;
  head[4] = flags & 0xff;
  head.writeUInt32BE(streamId >>> 0, 5);
  return Buffer.concat([head, payload]);
}

/** A SETTINGS frame with the given (id, value) pairs; `ack` sends an empty acknowledgement. */
export function settingsFrame(pairs: readonly (readonly [number, number])[], ack = false): Buffer {
  const payload = Buffer.alloc(pairs.length * 6);
  pairs.forEach(([id, value], i) => {
    payload.writeUInt16BE(id & 0xffff, i * 6);
    payload.writeUInt32BE(value >>> 0, i * 6 + 2);
  });
  return frame(FrameType.settings, ack ? FrameFlag.ack : 0, 0, ack ? undefined : payload);
}

/** A RST_STREAM frame. */
export function rstStreamFrame(streamId: number, code: number): Buffer {
  const payload = Buffer.alloc(4);
  payload.writeUInt32BE(code >>> 0);
  return frame(FrameType.rstStream, 0, streamId, payload);
}

/** A GOAWAY frame. */
export function goawayFrame(lastStreamId: number, code: number, debug = ""): Buffer {
  const payload = Buffer.alloc(8);
  payload.writeUInt32BE(lastStreamId >>> 0, 0);
  payload.writeUInt32BE(code >>> 0, 4);
  return frame(FrameType.goaway, 0, 0, Buffer.concat([payload, Buffer.from(debug)]));
}

/** A WINDOW_UPDATE frame (an increment of 0 is a protocol error, on purpose when asked). */
export function windowUpdateFrame(streamId: number, increment: number): Buffer {
  const payload = Buffer.alloc(4);
  payload.writeUInt32BE(increment >>> 0);
  return frame(FrameType.windowUpdate, 0, streamId, payload);
}

/** A PING frame (8 bytes of opaque data). */
export function pingFrame(data: Buffer = Buffer.alloc(8), ack = false): Buffer {
  return frame(FrameType.ping, ack ? FrameFlag.ack : 0, 0, data);
}

/** An HPACK integer with an `prefixBits`-bit prefix whose high bits are `mask`. */
export function hpackInteger(value: number, prefixBits: number, mask = 0): Buffer {
  const max = (1 << prefixBits) - 1;
  if (value < max) return Buffer.from([mask | value]);
  const out = [mask | max];
  let rest = value - max;
  while (rest >= 128) {
    out.push((rest % 128) + 128);
    rest = Math.floor(rest / 128);
  }
  out.push(rest);
  return Buffer.from(out);
}

/** An HPACK string literal, never Huffman-coded. */
function hpackString(text: string | Buffer): Buffer {
  const bytes = typeof text === "string" ? Buffer.from(text, "latin1") : text;
  return Buffer.concat([hpackInteger(bytes.byteLength, 7), bytes]);
}

/**
 * A header block of literal fields without indexing, each with a new name (RFC 7541 6.2.2): no
 * dynamic table, so the block means the same whatever was sent before it.
 */
export function hpackBlock(headers: readonly (readonly [string, string])[]): Buffer {
  return Buffer.concat(
    headers.flatMap(([name, value]) => [
      Buffer.from([0x00]),
      hpackString(name),
      hpackString(value),
    ]),
  );
}

/** A HEADERS frame carrying `block`, ending the headers (and the stream when asked). */
export function headersFrame(streamId: number, block: Buffer, endStream: boolean): Buffer {
  const flags = FrameFlag.endHeaders | (endStream ? FrameFlag.endStream : 0);
  return frame(FrameType.headers, flags, streamId, block);
}

/** A DATA frame. */
export function dataFrame(streamId: number, data: Uint8Array, endStream: boolean): Buffer {
  return frame(FrameType.data, endStream ? FrameFlag.endStream : 0, streamId, data);
}

/** A frame read back from the server (headers are not HPACK-decoded). */
export interface ReadFrame {
  type: number;
  flags: number;
  streamId: number;
  payload: Buffer;
}

/** The whole frames in `data` (the server's bytes after its own preface-less start). */
export function readFrames(data: Buffer): ReadFrame[] {
  const out: ReadFrame[] = [];
  let offset = 0;
  while (offset + 9 <= data.length) {
    const length = data.readUIntBE(offset, 3);
    if (offset + 9 + length > data.length) break;
    out.push({
      type: data[offset + 3] ?? 0,
      flags: data[offset + 4] ?? 0,
      streamId: data.readUInt32BE(offset + 5) & 0x7fffffff,
      payload: data.subarray(offset + 9, offset + 9 + length),
    });
    offset += 9 + length;
  }
  return out;
}
