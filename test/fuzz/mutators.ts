// Mutations shared by the families: raw bytes, JSON text, protobuf bytes, envelopes and
// compression, header values and paths. Each returns what it made; the caller records a
// short label for the failure report.
import { deflateSync, gzipSync } from "node:zlib";
import type { Prng } from "./prng.js";

/** Byte sequences parsers trip on: NUL, CR/LF, invalid UTF-8, lone surrogates, `%`. */
const nastyBytes: readonly Buffer[] = [
  Buffer.from([0x00]),
  Buffer.from("\r\n"),
  Buffer.from("\r\n\r\n"),
  Buffer.from([0xc3, 0x28]),
  Buffer.from([0xed, 0xa0, 0x80]),
  Buffer.from([0xf4, 0x90, 0x80, 0x80]),
  Buffer.from([0xff, 0xfe]),
  Buffer.from("%"),
  Buffer.from("%zz"),
  Buffer.from([0x80]),
];

/** 1-`max` random edits of `input`: flips, inserts, deletes, duplications, truncation. */
export function mutateBytes(rng: Prng, input: Buffer, max = 4): Buffer {
  let out = Buffer.from(input);
  const edits = rng.int(1, max);
  for (let e = 0; e < edits; e++) {
    const at = rng.int(0, out.length);
    switch (rng.int(0, 6)) {
      case 0:
        if (out.length > 0) {
          const i = Math.min(at, out.length - 1);
          out[i] = (out[i] ?? 0) ^ (1 << rng.int(0, 7));
        }
        break;
      case 1:
        out = Buffer.concat([out.subarray(0, at), rng.bytes(rng.int(1, 8)), out.subarray(at)]);
        break;
      case 2:
        out = Buffer.concat([out.subarray(0, at), out.subarray(at + rng.int(1, 16))]);
        break;
      case 3: {
        const piece = out.subarray(at, at + rng.int(1, 64));
        out = Buffer.concat([out.subarray(0, at), piece, piece, out.subarray(at)]);
        break;
      }
      case 4:
        out = out.subarray(0, at);
        break;
      default:
        out = Buffer.concat([out.subarray(0, at), rng.pick(nastyBytes), out.subarray(at)]);
    }
  }
  return out;
}

/** JSON values of the wrong shape, out of range, or not JSON at all. */
function oddJsonValue(rng: Prng): string {
  return rng.pick([
    "null",
    "true",
    '"x"',
    "[]",
    "{}",
    "-0",
    "1e400",
    "18446744073709551616",
    '"-9223372036854775809"',
    '"NaN"',
    "1.5",
    '"\\ud800"',
    '"AAA="',
    '"%%%"',
    `${"[".repeat(rng.int(10, 5000))}${"]".repeat(rng.int(0, 5000))}`,
    `${'{"a":'.repeat(rng.int(10, 2000))}1${"}".repeat(rng.int(0, 2000))}`,
    `"${"x".repeat(rng.int(0, 70_000))}"`,
  ]);
}

/** A JSON text edited structurally (values replaced, keys added) or as bytes. */
export function mutateJson(rng: Prng, json: Buffer): Buffer {
  const text = json.toString("utf8");
  switch (rng.int(0, 5)) {
    case 0: {
      // Replace the first value after a key with an odd one.
      const m = /":\s*/.exec(text);
      if (m === null) return Buffer.from(oddJsonValue(rng));
      const start = m.index + m[0].length;
      const end = text.slice(start).search(/[,}]/);
      const cut = end < 0 ? text.length : start + end;
      return Buffer.from(`${text.slice(0, start)}${oddJsonValue(rng)}${text.slice(cut)}`);
    }
    case 1: {
      const key = rng.pick(["unknownField", "name", "@type", "__proto__", "constructor", ""]);
      return Buffer.from(text.replace(/^\s*\{/, `{"${key}":${oddJsonValue(rng)},`));
    }
    case 2:
      return Buffer.from(oddJsonValue(rng));
    case 3:
      return Buffer.concat([json, rng.pick([Buffer.from("}"), Buffer.from(" x"), rng.bytes(3)])]);
    default:
      return mutateBytes(rng, json);
  }
}

/**
 * A valid protobuf message just under the 4 MiB limits made of nothing but unknown fields
 * (field 15, varint 0: two bytes each), or a quarter of that. A decoder that keeps every
 * unknown field as an object spends seconds and hundreds of MiB on it: one such request must
 * not freeze or bloat the server.
 */
export function unknownFieldFlood(rng: Prng): Buffer {
  const size = rng.pick([1024 * 1024, 4 * 1024 * 1024 - 64]);
  return Buffer.alloc(size, Buffer.from([0x78, 0x00]));
}

/** Protobuf bytes with a bad field appended, edited as bytes, or (rarely) a flood. */
export function mutateProto(rng: Prng, message: Buffer): Buffer {
  // Rare: each one costs the server real work even when it copes well.
  if (rng.chance(0.03)) return unknownFieldFlood(rng);
  const extra = rng.pick([
    // Field 1, length-delimited, claiming more bytes than follow.
    Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f, 0x41]),
    // A varint of 11 bytes (over the 10-byte maximum).
    Buffer.from([0x08, ...Array<number>(10).fill(0xff), 0x01]),
    // Wire types 6 and 7 do not exist; field number 0 is invalid.
    Buffer.from([0x0e, 0x00]),
    Buffer.from([0x0f]),
    Buffer.from([0x00, 0x01]),
    // A group start without its end.
    Buffer.from([0x0b]),
    // Invalid UTF-8 in field 1 (a string in most inputs).
    Buffer.from([0x0a, 0x02, 0xc3, 0x28]),
    // Field 1 as a fixed64 (wrong wire type for a string or varint).
    Buffer.from([0x09, 1, 2, 3, 4, 5, 6, 7, 8]),
  ]);
  return rng.chance(0.5) ? Buffer.concat([message, extra]) : mutateBytes(rng, message);
}

/** A compression a peer may name, with the body compressed that way (or not at all). */
export type Codec = "identity" | "gzip" | "deflate";

/** `data` compressed with `codec`. */
export function compress(codec: Codec, data: Buffer): Buffer {
  if (codec === "gzip") return gzipSync(data);
  if (codec === "deflate") return deflateSync(data);
  return data;
}

let bombs: { gzip: Buffer; deflate: Buffer } | undefined;

/** A small compressed payload that inflates to 5 MiB, over the 4 MiB message limit. */
export function bomb(codec: "gzip" | "deflate"): Buffer {
  bombs ??= {
    gzip: gzipSync(Buffer.alloc(5 * 1024 * 1024)),
    deflate: deflateSync(Buffer.alloc(5 * 1024 * 1024)),
  };
  return bombs[codec];
}

/** One length-prefixed envelope; `declared` overrides the length field. */
export function envelope(flags: number, data: Buffer, declared = data.byteLength): Buffer {
  const head = Buffer.alloc(5);
  head[0] = flags & 0xff;
  head.writeUInt32BE(declared >>> 0, 1);
  return Buffer.concat([head, data]);
}

/**
 * An envelope around `data` with a mutated flag byte or length field, or cut short. Returns
 * the bytes and a label.
 */
export function mutateEnvelope(rng: Prng, data: Buffer): { bytes: Buffer; label: string } {
  switch (rng.int(0, 4)) {
    case 0: {
      const flags = rng.pick([0x01, 0x02, 0x03, 0x80, 0x81, 0xfe, 0xff, rng.int(0, 255)]);
      return { bytes: envelope(flags, data), label: `envelope flags 0x${flags.toString(16)}` };
    }
    case 1: {
      const declared = rng.pick([
        0,
        data.byteLength + 1,
        Math.max(0, data.byteLength - 1),
        4 * 1024 * 1024 + 1,
        0xffffffff,
        rng.int(0, 1 << 20),
      ]);
      return { bytes: envelope(0, data, declared), label: `envelope length ${declared}` };
    }
    case 2: {
      const whole = envelope(0, data);
      const cut = rng.int(0, whole.length - 1);
      return { bytes: whole.subarray(0, cut), label: `envelope cut at ${cut}` };
    }
    case 3: {
      const garbage = rng.bytes(rng.size(64));
      return { bytes: envelope(0x01, garbage), label: "compressed flag over garbage" };
    }
    default:
      return { bytes: mutateBytes(rng, envelope(0, data)), label: "envelope bytes edited" };
  }
}

/** `grpc-timeout` values: valid, edge and malformed. */
export function grpcTimeoutValue(rng: Prng): string {
  return rng.pick([
    "1S",
    "1n",
    "0n",
    "1u",
    "5m",
    "99999999H",
    "100000000S",
    "abc",
    "-1S",
    "1.5S",
    "",
    " 1S",
    "1s",
    "1 S",
    "S",
  ]);
}

/** `connect-timeout-ms` values: valid, edge and malformed. */
export function connectTimeoutValue(rng: Prng): string {
  return rng.pick(["1000", "1", "0", "-1", "abc", "99999999999", "1.5", "", "1e3"]);
}

/** Values of a message-encoding header. */
export function encodingValue(rng: Prng): string {
  return rng.pick([
    "identity",
    "gzip",
    "deflate",
    "br",
    "zstd",
    "snappy",
    "gzip, deflate",
    "",
    "GZIP",
    "x",
  ]);
}

/** A path with one odd edit: bad or overlong percent-encoding, dot segments, raw bytes. */
export function mutatePath(rng: Prng, path: string): string {
  const insert = rng.pick([
    "%ZZ",
    "%C3%28",
    "%",
    "%00",
    "%2F",
    "/../",
    "//",
    "%ED%A0%80",
    "\u00e9",
    "x".repeat(rng.int(100, 9000)),
    ";a=b",
    "?",
    "#",
    "*",
  ]);
  const at = rng.int(0, path.length);
  return `${path.slice(0, at)}${insert}${path.slice(at)}`;
}
