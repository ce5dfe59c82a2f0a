// Reading a call's request messages: the body of a unary call (bounded in size and time), the
// query of a Connect GET, the message stream of a streaming call, each decoded in the call's
// format. Everything a client can get wrong here is a client error.
import type { DescMessage, Message } from "@bufbuild/protobuf";
import { base64Decode } from "@bufbuild/protobuf/wire";
import { decodeMessage } from "../../encoding/message.js";
import { KratosError } from "../../errors/error.js";
import { reasons } from "../../errors/reasons.js";
import { AsyncQueue } from "../../internal/async-queue.js";
import { decompress, EnvelopeParser, flagCompressed, tooLarge, truncated } from "./envelope.js";
import type { Compression, Envelope } from "./envelope.js";
import type { Exchange } from "./exchange.js";
import type { ProtocolSession } from "./protocols.js";

function envelopeData(envelope: Envelope, compression: Compression, limit: number): Uint8Array {
  if ((envelope.flags & ~flagCompressed) !== 0) {
    // Requests carry no end-of-stream or trailer frames: only the compression bit is theirs.
    throw new KratosError(
      400,
      reasons.codec,
      `invalid envelope flags 0x${envelope.flags.toString(16).padStart(2, "0")}`,
    );
  }
  if ((envelope.flags & flagCompressed) === 0) return envelope.data;
  if (compression === "identity") {
    throw new KratosError(
      400,
      reasons.codec,
      "compressed message without a message encoding header",
    );
  }
  return decompress(compression, envelope.data, limit);
}

/** The request message of a Connect GET, from the query string. */
export function readQuery(
  exchange: Exchange,
  session: ProtocolSession,
  schema: DescMessage,
  limit: number,
): Message {
  const params = new URLSearchParams(exchange.search);
  const raw = params.get("message") ?? "";
  let data: Uint8Array;
  try {
    data = params.get("base64") === "1" ? base64Decode(raw) : new TextEncoder().encode(raw);
  } catch (err) {
    throw new KratosError(400, reasons.codec, "the message query parameter is not base64", {
      cause: err,
    });
  }
  if (data.byteLength > limit) throw tooLarge(limit);
  return decodeMessage(schema, decompress(session.compression, data, limit), session.format);
}

/** Decodes the single request message of a unary or server-streaming call from its body. */
export function decodeSingle(
  body: Buffer,
  session: ProtocolSession,
  schema: DescMessage,
  limit: number,
): Message {
  if (!session.enveloped) {
    return decodeMessage(schema, decompress(session.compression, body, limit), session.format);
  }
  // The usual body is exactly one envelope: read it in place. Anything else goes through the
  // parser, for its errors.
  const length = body.length >= 5 ? body.readUInt32BE(1) : -1;
  if (length >= 0 && length <= limit && body.length === 5 + length) {
    const envelope = { flags: body[0] ?? 0, data: body.subarray(5) };
    return decodeMessage(
      schema,
      envelopeData(envelope, session.compression, limit),
      session.format,
    );
  }
  const parser = new EnvelopeParser(limit);
  const envelopes = parser.push(body);
  if (parser.pending) throw truncated();
  const [first] = envelopes;
  if (first === undefined || envelopes.length !== 1) {
    throw new KratosError(
      400,
      reasons.codec,
      `expected one request message, got ${envelopes.length}`,
    );
  }
  return decodeMessage(schema, envelopeData(first, session.compression, limit), session.format);
}

/** The request messages of a client- or bidi-streaming call, with backpressure on the input. */
export function requestStream(
  exchange: Exchange,
  session: ProtocolSession,
  schema: DescMessage,
  limit: number,
): AsyncQueue<Message> {
  const input = exchange.input;
  const queue = new AsyncQueue<Message>(16, () => {
    if (input.isPaused()) input.resume();
  });
  const parser = new EnvelopeParser(limit);
  input.on("data", (chunk: Buffer) => {
    try {
      for (const envelope of parser.push(chunk)) {
        const message = decodeMessage(
          schema,
          envelopeData(envelope, session.compression, limit),
          session.format,
        );
        if (!queue.push(message)) input.pause();
      }
    } catch (err) {
      queue.fail(err);
      input.pause();
    }
  });
  input.once("end", () => {
    if (parser.pending) queue.fail(truncated());
    else queue.end();
  });
  input.once("error", (err) => {
    queue.fail(peerGone(err));
  });
  return queue;
}

/**
 * The error of a request stream that broke under the call (a reset, a session error): the
 * client's doing, CANCELLED (499), not a handler failure to report as a server bug.
 */
function peerGone(err: Error): KratosError {
  return new KratosError(499, "", `the client went away: ${err.message}`, { cause: err });
}

/** Limits of {@link readBody}. */
export interface BodyLimits {
  /** Most bytes accepted. */
  cap: number;
  /** The message limit the error names. */
  limit: number;
  /** Time allowed to receive the body, in ms. */
  timeoutMs: number;
  /** The call's deadline (ms since the epoch), when sooner. */
  deadline: number | undefined;
}

/**
 * Reads a whole body. Fails as soon as it passes `cap` bytes (a message over `limit`), or when
 * it is not complete in time; either way the rest is not read (the transport drains a little
 * or closes, see Exchange).
 */
export function readBody(exchange: Exchange, limits: BodyLimits): Promise<Buffer> {
  const input = exchange.input;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const untilDeadline = limits.deadline === undefined ? Infinity : limits.deadline - Date.now();
    const byDeadline = untilDeadline < limits.timeoutMs;
    const settle = (err: KratosError | Error | undefined) => {
      clearTimeout(timer);
      input.off("data", onData);
      input.off("end", onEnd);
      input.off("error", onError);
      if (err === undefined) {
        resolve(
          chunks.length === 1 && chunks[0] !== undefined ? chunks[0] : Buffer.concat(chunks, size),
        );
        return;
      }
      exchange.discardInput();
      reject(err);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limits.cap) settle(tooLarge(limits.limit));
      else chunks.push(chunk);
    };
    const onEnd = () => {
      settle(undefined);
    };
    const onError = (err: Error) => {
      settle(peerGone(err));
    };
    const timer = setTimeout(
      () => {
        settle(
          byDeadline
            ? new KratosError(504, "", "deadline exceeded while reading the request")
            : new KratosError(408, reasons.requestTimeout, "request message not received in time"),
        );
      },
      Math.max(0, Math.min(untilDeadline, limits.timeoutMs)),
    );
    input.on("data", onData);
    input.on("end", onEnd);
    input.on("error", onError);
  });
}
