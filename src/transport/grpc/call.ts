import type { DescMessage, DescMethod, Message } from "@bufbuild/protobuf";
import type { OutgoingHttpHeaders } from "node:http";
import { CancellableContext, createContextKey } from "../../context.js";
import type { Context, ContextValues } from "../../context.js";
import { KratosError } from "../../errors/error.js";
import { fromError } from "../../errors/from-error.js";
import { reasons } from "../../errors/reasons.js";
import type { Handler } from "../../middleware/middleware.js";
import { setRequestSchema, setServerTransport } from "../transport.js";
import { encodeMessage } from "../../encoding/message.js";
import { acceptedEncodings, encodeEnvelope, envelopePrefix } from "./envelope.js";
import { largeMessage } from "./session-wire.js";
import type { Exchange } from "./exchange.js";
import { connectUnaryTrailers } from "./connect-session.js";
import type { ProtocolSession } from "./protocols.js";
import { decodeSingle, readBody, readQuery, requestStream } from "./request.js";
import { GrpcTransporter } from "./transporter.js";

/** A method registered on the gRPC server. */
export interface RegisteredMethod {
  readonly desc: DescMethod;
  /** `/pkg.Service/Method`. */
  readonly operation: string;
  /** The user's implementation (see ServiceImpl). */
  readonly impl: (...args: never[]) => unknown;
}

/** What the runner needs from the server. */
export interface CallEnvironment {
  readonly endpointText: string;
  /** The values of the context the server was started with (app info). */
  readonly baseValues: ContextValues | undefined;
  readonly maxMessageBytes: number;
  readonly timeoutMs: number | undefined;
  /** The server's deadline of streaming calls, in ms (none unless set explicitly). */
  readonly streamTimeoutMs: number | undefined;
  /** Time to receive the request message of a unary or server-streaming call, in ms. */
  readonly requestTimeoutMs: number;
  /** The method's handler wrapped in the middleware selected for its operation. */
  handlerFor(method: RegisteredMethod, inner: (m: RegisteredMethod) => Handler): Handler;
}

// The request could not be read: the innermost handler rethrows it, so the middleware chain
// (logging, metrics, tracing) sees a decode error like any other.
const decodeErrorKey = createContextKey<KratosError | undefined>(undefined, "rpc decode error");
// Per-call state the inner handlers need, kept off the Handler signature.
const callKey = createContextKey<CallState | undefined>(undefined, "rpc call");

interface CallState {
  exchange: Exchange;
  session: ProtocolSession;
  transport: GrpcTransporter;
  requests: AsyncIterable<Message> | undefined;
}

/** Serves one RPC on an exchange, for any protocol and method kind. */
export async function runCall(
  exchange: Exchange,
  session: ProtocolSession,
  method: RegisteredMethod,
  env: CallEnvironment,
): Promise<void> {
  const ctx = new CancellableContext({
    values: env.baseValues,
    timeoutMs: earliest(
      session.timeoutMs,
      method.desc.methodKind === "unary" ? env.timeoutMs : env.streamTimeoutMs,
    ),
    // A handler that reads ctx.signal learns when the client cancels or the server is forced
    // to stop (both close the stream); the others pay for no listener.
    onSignal: (c) => {
      exchange.onAbort(() => {
        c.abort(new DOMException("the client cancelled the call", "AbortError"));
      });
    },
  });
  const transport = new GrpcTransporter(
    env.endpointText,
    method.operation,
    session.protocol,
    exchange.headers,
  );
  setServerTransport(ctx, transport);
  setRequestSchema(ctx, method.desc.input);
  const kind = method.desc.methodKind;
  const state: CallState = { exchange, session, transport, requests: undefined };
  ctx.values.set(callKey, state);
  try {
    if (session.badHeader !== undefined) throw session.badHeader;
    if (session.unsupportedEncoding !== undefined) {
      // The gRPC spec: an unsupported message encoding is UNIMPLEMENTED.
      throw new KratosError(
        501,
        "",
        `message encoding "${session.unsupportedEncoding}" is not supported (use ${acceptedEncodings})`,
      );
    }
    const handler = env.handlerFor(method, innerHandler);
    if (kind !== "unary" && ctx.deadline !== undefined) endAtDeadline(ctx, state);
    let req: Message | undefined;
    if (kind === "unary" || kind === "server_streaming") {
      try {
        const limit = env.maxMessageBytes;
        const input = method.desc.input;
        req =
          !session.enveloped && exchange.method === "GET"
            ? readQuery(exchange, session, input, limit)
            : decodeSingle(
                await readBody(exchange, {
                  // An envelope adds 5 bytes to the message it carries.
                  cap: session.enveloped ? limit + 5 : limit,
                  limit,
                  timeoutMs: env.requestTimeoutMs,
                  deadline: ctx.deadline,
                }),
                session,
                input,
                limit,
              );
      } catch (err) {
        ctx.values.set(decodeErrorKey, decodeFailure(err));
      }
    } else {
      state.requests = requestStream(exchange, session, method.desc.input, env.maxMessageBytes);
    }
    const reply = await handler(ctx, req);
    if (kind === "unary" || kind === "client_streaming") {
      writeSingle(state, method.desc.output, reply);
    } else {
      if (!exchange.headSent) sendHead(state);
      session.end(exchange, undefined, transport.replyTrailerIfSet);
    }
  } catch (err) {
    failCall(state, fromError(err));
  } finally {
    ctx.dispose();
  }
}

/** Ends a call with an error, as its protocol says; nothing when it is already over. */
function failCall(state: CallState, error: KratosError): void {
  const { exchange, session, transport } = state;
  if (exchange.closed) return;
  try {
    if (exchange.headSent) session.end(exchange, error, transport.replyTrailerIfSet);
    else session.fail(exchange, error, headerRecord({}, transport), transport.replyTrailerIfSet);
  } catch {
    // The error could not even be written: reset the stream rather than leave the peer hanging.
    exchange.destroy();
  }
}

/**
 * Ends a streaming call with DEADLINE_EXCEEDED when its deadline passes, whatever its handler
 * does: a handler that ignores its signal (or listens too late) cannot keep the stream open.
 */
function endAtDeadline(ctx: Context, state: CallState): void {
  const signal = ctx.signal;
  const onAbort = () => {
    const reason: unknown = signal.reason;
    if (reason instanceof DOMException && reason.name === "TimeoutError") {
      failCall(state, fromError(reason));
      if (!state.exchange.closed) state.exchange.destroy();
    }
  };
  if (signal.aborted) onAbort();
  else signal.addEventListener("abort", onAbort, { once: true });
}

/** A request that could not be read is the client's error (400), unless it says otherwise. */
function decodeFailure(err: unknown): KratosError {
  if (err instanceof KratosError) return err;
  const detail = err instanceof Error ? err.message : String(err);
  return new KratosError(400, reasons.codec, `cannot read the request: ${detail}`, { cause: err });
}

/** The smaller of two optional timeouts (0 and undefined mean none). */
function earliest(a: number | undefined, b: number | undefined): number | undefined {
  const x = a !== undefined && a > 0 ? a : undefined;
  const y = b !== undefined && b > 0 ? b : undefined;
  return x === undefined ? y : y === undefined ? x : Math.min(x, y);
}

/** The innermost handler of a method: the implementation, adapted to the method kind. */
function innerHandler(method: RegisteredMethod): Handler {
  const kind = method.desc.methodKind;
  const output = method.desc.output;
  const impl = method.impl as (input: unknown, ctx: Context) => unknown;
  if (kind === "unary" || kind === "client_streaming") {
    // Not async: the implementation's promise is returned as it is, one tick less per call.
    return function rpc(ctx, req) {
      const failure = ctx.values.get(decodeErrorKey);
      if (failure !== undefined) return Promise.reject(failure);
      try {
        const input = kind === "unary" ? req : ctx.values.get(callKey)?.requests;
        return Promise.resolve(impl(input, ctx));
      } catch (err) {
        return Promise.reject(err instanceof Error ? err : new Error(String(err)));
      }
    };
  }
  return async function rpcStream(ctx, req) {
    const failure = ctx.values.get(decodeErrorKey);
    if (failure !== undefined) throw failure;
    const state = ctx.values.get(callKey);
    if (state === undefined) throw new Error("rpc call state missing");
    const input = kind === "server_streaming" ? req : state.requests;
    for await (const reply of impl(input, ctx) as AsyncIterable<unknown>) {
      // Ended by the deadline or the peer: stop the handler's iterator (its finally runs).
      if (state.exchange.closed) break;
      if (!state.exchange.headSent) sendHead(state);
      const bytes = serialize(output, reply, state.session.format);
      if (bytes.byteLength < largeMessage) await state.exchange.write(encodeEnvelope(0, bytes));
      else {
        // As in writeSingle: a large message is not copied to put its prefix in front.
        void state.exchange.write(envelopePrefix(0, bytes.byteLength));
        await state.exchange.write(bytes);
      }
    }
    return undefined;
  };
}

/** Copies the reply headers a handler set into `out`. */
function headerRecord(out: OutgoingHttpHeaders, transport: GrpcTransporter): OutgoingHttpHeaders {
  const reply = transport.replyHeaderIfSet;
  if (reply !== undefined) for (const key of reply.keys()) out[key] = reply.values(key);
  return out;
}

function sendHead(state: CallState): void {
  const { exchange, session, transport } = state;
  exchange.head(200, headerRecord(session.headHeaders(), transport), session.headOptions);
}

/** Writes the one reply of a unary or client-streaming call and ends it. */
function writeSingle(state: CallState, output: DescMessage, reply: unknown): void {
  const { exchange, session, transport } = state;
  if (!session.enveloped) {
    // A JSON reply stays a string: node then writes head and body in one write, where a buffer
    // body goes through a corked writev (~15% of a Connect JSON call's throughput, measured).
    const body = encodeMessage(output, reply, session.format, connectJson);
    const headers = headerRecord(session.headHeaders(), transport);
    headers["content-length"] =
      typeof body === "string" ? Buffer.byteLength(body) : body.byteLength;
    exchange.head(200, connectUnaryTrailers(headers, transport.replyTrailerIfSet));
    exchange.end(body);
    return;
  }
  const bytes = serialize(output, reply, session.format);
  sendHead(state);
  if (bytes.byteLength < largeMessage) {
    session.end(exchange, undefined, transport.replyTrailerIfSet, encodeEnvelope(0, bytes));
    return;
  }
  // A large message goes out behind its 5-byte prefix, not copied into one buffer with it. The
  // prefix's write never waits (5 bytes), and the stream keeps the two writes in order.
  void exchange.write(envelopePrefix(0, bytes.byteLength));
  session.end(exchange, undefined, transport.replyTrailerIfSet, bytes);
}

// The JSON of gRPC and Connect leaves fields at their zero value out (connect-go does too).
const connectJson = { emitImplicit: false } as const;

/** Encodes a handler's reply (a message or its init object) in the call's format. */
function serialize(schema: DescMessage, reply: unknown, format: "proto" | "json"): Uint8Array {
  const encoded = encodeMessage(schema, reply, format, connectJson);
  return typeof encoded === "string" ? Buffer.from(encoded) : encoded;
}
