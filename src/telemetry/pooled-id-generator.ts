import { randomFillSync } from "node:crypto";
import type { IdGenerator } from "@opentelemetry/sdk-trace";

const poolBytes = 4096;
const traceIdChars = 32;
const spanIdChars = 16;
// V8 copies a substring shorter than 13 characters; a longer one is a view that keeps the whole
// string it was cut from alive. Ids are put together from 8-character pieces, so an id someone
// keeps (a map keyed by trace id) holds its own 16 or 32 characters, not the 8 KiB pool.
const pieceChars = 8;
const zeroTraceId = "0".repeat(traceIdChars);
const zeroSpanId = "0".repeat(spanIdChars);

/**
 * W3C trace and span ids cut from a pool of random bytes, hex-encoded 4 KiB at a time: one
 * `randomFillSync` and one hex encoding per ~170 spans, where the SDK's `RandomIdGenerator`
 * writes `Math.random()` words into a buffer and hex-encodes it for every id (bench/README.md
 * has both costs). The bytes come from the system's CSPRNG, as W3C Trace Context recommends. An
 * all-zero id (invalid in W3C) is skipped.
 */
export class PooledIdGenerator implements IdGenerator {
  readonly #buffer = Buffer.allocUnsafe(poolBytes);
  #hex = "";
  #offset = 0;

  generateTraceId(): string {
    return this.#next(traceIdChars, zeroTraceId);
  }

  generateSpanId(): string {
    return this.#next(spanIdChars, zeroSpanId);
  }

  #next(chars: number, zero: string): string {
    for (;;) {
      if (this.#offset + chars > this.#hex.length) {
        this.#hex = randomFillSync(this.#buffer).toString("hex");
        this.#offset = 0;
      }
      let id = "";
      const end = this.#offset + chars;
      for (let at = this.#offset; at < end; at += pieceChars) {
        id += this.#hex.slice(at, at + pieceChars);
      }
      this.#offset = end;
      if (id !== zero) return id;
    }
  }
}
