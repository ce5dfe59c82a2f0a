// The gRPC port with hand-built bytes: partial prefaces, then frame sequences no HTTP/2 client
// library sends (wrong lengths, frames on the wrong stream, bad settings, resets with every
// error code, HPACK garbage) around real gRPC calls. The answers are not judged (there is no
// HPACK decoder here): this family is about crashes and hangs, which the runner detects.
import type { Family } from "./family.js";
import {
  dataFrame,
  errorCodes,
  frame,
  FrameFlag,
  FrameType,
  goawayFrame,
  h2Preface,
  headersFrame,
  hpackBlock,
  pingFrame,
  readFrames,
  rstStreamFrame,
  Setting,
  settingsFrame,
  windowUpdateFrame,
} from "./h2-frames.js";
import { envelope, grpcTimeoutValue, mutateBytes } from "./mutators.js";
import type { Prng } from "./prng.js";
import { rawExchange } from "./raw-socket.js";
import { rpcMethods, sampleMessage } from "./rpc-corpus.js";
import { rpcContentTypes } from "./rpc-request.js";
import { showBytes } from "./verdict.js";

/** PING payload that marks "the server has read everything before it". */
const syncPing = Buffer.from("fuzzsync");

/** A request header block for a random method; sometimes malformed. */
function requestBlock(rng: Prng, labels: string[]): Buffer {
  const method = rng.pick(rpcMethods);
  const headers: [string, string][] = [
    [":method", "POST"],
    [":scheme", "http"],
    [":path", method.path],
    [":authority", "127.0.0.1"],
    ["content-type", rng.chance(0.7) ? "application/grpc" : rng.pick(rpcContentTypes)],
    ["te", "trailers"],
  ];
  if (rng.chance(0.2)) headers.push(["grpc-timeout", grpcTimeoutValue(rng)]);
  if (rng.chance(0.1)) headers.push(["grpc-encoding", rng.pick(["gzip", "br"])]);
  labels.push(`HEADERS ${method.path}`);
  const odd = rng.int(0, 9);
  if (odd === 0) headers.splice(rng.int(0, 3), 1);
  if (odd === 1) headers.push(["Content-Type", "x"], ["connection", "keep-alive"]);
  if (odd === 2) headers.unshift(["x-first", "pseudo headers must come first"]);
  if (odd === 3) headers.push([":path", "/twice"]);
  const block = hpackBlock(headers);
  if (odd === 4) {
    labels.push("HPACK edited");
    return mutateBytes(rng, block);
  }
  // An indexed field far past the static table and the empty dynamic table.
  if (odd === 5) return Buffer.concat([block, Buffer.from([0xff, 0xff, 0x7f])]);
  return block;
}

/** One frame (or a few bytes) from the menu, on stream `s`. */
function someFrame(rng: Prng, s: number, labels: string[]): Buffer {
  const op = rng.int(0, 17);
  const code = rng.pick(errorCodes);
  const message = envelope(0, sampleMessage(rng.pick(rpcMethods), rng, "proto"));
  switch (op) {
    case 0:
    case 1:
      labels.push(`RST_STREAM ${s} code ${code}`);
      return rstStreamFrame(s, code);
    case 2:
      labels.push(`DATA ${s}`);
      return dataFrame(s, message, rng.chance(0.5));
    case 3: {
      const declared = rng.pick([
        message.length + 1,
        Math.max(0, message.length - 1),
        1 << 20,
        0xffffff,
      ]);
      labels.push(`DATA ${s} declaring ${declared}`);
      return frame(FrameType.data, 0, s, message, declared);
    }
    case 4:
      labels.push(`DATA padded badly ${s}`);
      return frame(
        FrameType.data,
        FrameFlag.padded,
        s,
        Buffer.concat([Buffer.from([200]), message]),
      );
    case 5: {
      const inc = rng.pick([0, 0x7fffffff, 1, rng.int(0, 0x7fffffff)]);
      const on = rng.pick([0, s]);
      labels.push(`WINDOW_UPDATE ${on} +${inc}`);
      return windowUpdateFrame(on, inc);
    }
    case 6: {
      const pair = rng.pick<[number, number]>([
        [Setting.initialWindowSize, 0x80000000],
        [Setting.maxFrameSize, 100],
        [Setting.maxFrameSize, 1 << 24],
        [Setting.enablePush, 2],
        [Setting.headerTableSize, 0xffffffff],
        [Setting.maxConcurrentStreams, 0],
        [Setting.initialWindowSize, 0],
        [0xff, 1],
      ]);
      labels.push(`SETTINGS ${pair[0]}=${pair[1]}`);
      return settingsFrame([pair]);
    }
    case 7:
      labels.push("SETTINGS odd length / wrong stream / ack with payload");
      return rng.pick([
        frame(FrameType.settings, 0, 0, Buffer.alloc(5)),
        frame(FrameType.settings, 0, 1, Buffer.alloc(6)),
        frame(FrameType.settings, FrameFlag.ack, 0, Buffer.alloc(6)),
      ]);
    case 8:
      labels.push("PING wrong length / stream");
      return rng.pick([
        frame(FrameType.ping, 0, 0, Buffer.alloc(7)),
        frame(FrameType.ping, 0, 1, Buffer.alloc(8)),
      ]);
    case 9:
      labels.push(`GOAWAY code ${code}`);
      return goawayFrame(rng.pick([0, s, 0x7fffffff]), code, "fuzz");
    case 10:
      labels.push(`PRIORITY ${s}`);
      return frame(
        FrameType.priority,
        0,
        s,
        rng.pick([Buffer.from([0, 0, 0, s & 0xff, 16]), Buffer.alloc(3)]),
      );
    case 11:
      labels.push("CONTINUATION alone");
      return frame(FrameType.continuation, FrameFlag.endHeaders, s, hpackBlock([["x", "y"]]));
    case 12:
      labels.push("PUSH_PROMISE from client");
      return frame(FrameType.pushPromise, FrameFlag.endHeaders, s, Buffer.alloc(4));
    case 13:
      labels.push("unknown frame type");
      return frame(rng.int(0x0a, 0xff), rng.int(0, 255), rng.int(0, 9), rng.bytes(rng.size(32)));
    case 14:
      labels.push("DATA on stream 0 / even stream / idle stream");
      return dataFrame(rng.pick([0, 2, s + 100]), message, true);
    case 15:
      labels.push(`HEADERS again on ${s}`);
      return headersFrame(s, requestBlock(rng, labels), rng.chance(0.5));
    case 16:
      labels.push("HEADERS without END_HEADERS");
      return frame(FrameType.headers, 0, s, requestBlock(rng, labels));
    default:
      labels.push("random bytes");
      return rng.bytes(rng.size(64));
  }
}

/** Raw HTTP/2 (and half-prefaces) on the gRPC port. */
export const h2RawFamily: Family = {
  name: "h2-raw",
  async run(input) {
    const { rng } = input;
    const labels: string[] = [];
    const chunks: Buffer[] = [];
    if (rng.chance(0.15)) {
      // Half a preface: too few bytes to tell HTTP/2 from HTTP/1.1.
      const n = rng.int(1, h2Preface.length - 1);
      chunks.push(h2Preface.subarray(0, n));
      labels.push(`preface cut at ${n}`);
      if (rng.chance(0.3))
        chunks.push(Buffer.from("\r\n\r\nGET / HTTP/1.1\r\n\r\n").subarray(0, rng.int(1, 20)));
    } else {
      chunks.push(
        h2Preface,
        settingsFrame(rng.chance(0.8) ? [] : [[Setting.initialWindowSize, rng.int(0, 65535)]]),
      );
      let s = 1;
      for (let n = rng.int(1, 4); n > 0; n--) {
        if (rng.chance(0.6)) {
          chunks.push(headersFrame(s, requestBlock(rng, labels), rng.chance(0.15)));
          if (rng.chance(0.6))
            chunks.push(
              dataFrame(
                s,
                envelope(0, sampleMessage(rng.pick(rpcMethods), rng, "proto")),
                rng.chance(0.5),
              ),
            );
        }
        for (let k = rng.int(0, 3); k > 0; k--) chunks.push(someFrame(rng, s, labels));
        s += 2;
      }
      chunks.push(pingFrame(syncPing));
      if (rng.chance(0.1)) {
        const last = chunks.length - 1;
        chunks[last] = mutateBytes(rng, chunks[last] ?? Buffer.alloc(0));
        labels.push("last frame edited");
      }
    }
    const end = rng.pick(["keep", "keep", "half-close", "destroy", "reset"] as const);
    labels.push(`end=${end}`);
    // Done once the server has acknowledged our PING (it has read everything before it) or
    // ended the connection; a reply frame per stream is not needed.
    const complete = (data: Buffer) =>
      readFrames(data).some(
        (f) =>
          (f.type === FrameType.ping &&
            (f.flags & FrameFlag.ack) !== 0 &&
            f.payload.equals(syncPing)) ||
          f.type === FrameType.goaway,
      );
    await rawExchange(input.grpcPort, chunks, end, input.capMs, complete);
    return { label: labels.join(", "), sent: showBytes(Buffer.concat(chunks)), failure: undefined };
  },
};
