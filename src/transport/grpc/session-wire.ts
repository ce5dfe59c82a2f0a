// What the protocol sessions share on the wire: request header reads, compression names,
// trailer metadata, and the closing frame of a stream.
import type { OutgoingHttpHeaders } from "node:http";
import type { NodeHeader } from "../header.js";
import { compressionOf } from "./envelope.js";
import type { Compression } from "./envelope.js";
import type { Exchange, HeadOptions } from "./exchange.js";

/** The first value of a request header. */
export function header(exchange: Exchange, name: string): string | undefined {
  const v = exchange.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** The compression a header names: supported, or the unsupported name. */
export function compressionFrom(name: string | undefined): {
  compression: Compression;
  unsupported: string | undefined;
} {
  const c = compressionOf(name);
  return c === undefined
    ? { compression: "identity", unsupported: name }
    : { compression: c, unsupported: undefined };
}

/** Copies trailer metadata into `out` (nothing to do for the usual call without any). */
export function addTrailers(
  out: OutgoingHttpHeaders,
  trailers: NodeHeader | undefined,
): OutgoingHttpHeaders {
  if (trailers !== undefined) for (const key of trailers.keys()) out[key] = trailers.values(key);
  return out;
}

/** Web Headers from node headers (connect's trailer and end-stream helpers take them). */
export function webHeaders(headers: OutgoingHttpHeaders): Headers {
  const out = new Headers();
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined) continue;
    for (const item of Array.isArray(v) ? v : [String(v)]) out.append(k, item);
  }
  return out;
}

/**
 * Ends an exchange with a closing frame, after the last message frame when there is one: in one
 * write when the message is small, and written on its own before the frame when it is large, so
 * a big message is not copied just to add the few bytes of the closing frame.
 */
export function endWith(exchange: Exchange, last: Uint8Array | undefined, frame: Buffer): void {
  if (last === undefined) exchange.end(frame);
  else if (last.byteLength < largeMessage) exchange.end(Buffer.concat([last, frame]));
  else {
    // The stream keeps the writes in order; end() follows whether or not this one buffered.
    void exchange.write(last);
    exchange.end(frame);
  }
}

/**
 * From this size on, a message is written apart from the bytes framed around it (an envelope
 * prefix, a closing frame) instead of being copied into one buffer with them: at 1 MiB a copy
 * was a sixth of a unary call's CPU time (bench/README.md, "How cost grows").
 */
export const largeMessage = 64 * 1024;

/** The head of a reply that needs no trailers (Connect unary, gRPC-Web). */
export const plainHead: HeadOptions = {};
