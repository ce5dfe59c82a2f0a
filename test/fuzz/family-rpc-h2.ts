// The gRPC port over HTTP/2 with a real client (node:http2): gRPC, gRPC-Web and Connect calls,
// mutated (rpc-mutations.ts), 1-3 streams per connection, each ended in one of the ways a
// client can end it: normally, RST_STREAM with any code before / during / after the body,
// GOAWAY, the session destroyed, the TCP connection reset. Answers are judged by `:status`,
// `grpc-status` in headers and trailers, and RPC statuses in the body.
import http2 from "node:http2";
import type { ClientHttp2Session, ClientHttp2Stream, OutgoingHttpHeaders } from "node:http2";
import net from "node:net";
import type { Socket } from "node:net";
import type { CaseInput, CaseOutcome, Family } from "./family.js";
import { errorCodes } from "./h2-frames.js";
import { openSockets } from "./raw-socket.js";
import { rpcRequest } from "./rpc-request.js";
import type { RpcRequest } from "./rpc-request.js";
import { mutateRpc } from "./rpc-mutations.js";
import { hasDeadline, rpcCodesInBody, serverErrorIn, showBytes } from "./verdict.js";

type StreamEnd = "end" | "rst-before-body" | "rst-mid-body" | "rst-after-body" | "keep-open";
type SessionEnd = "close" | "destroy" | "goaway" | "socket-reset";

/** One stream's request and what came back. */
interface StreamRun {
  req: RpcRequest;
  labels: string[];
  status: number | undefined;
  grpcCodes: number[];
  body: Buffer[];
  contentType: string;
}

function grpcStatusOf(headers: http2.IncomingHttpHeaders, into: number[]): void {
  const value = headers["grpc-status"];
  if (typeof value === "string" && /^\d+$/.test(value)) into.push(Number(value));
}

/**
 * How a stream ends, drawn up front: the case's PRNG must not be drawn from in callbacks, whose
 * order varies between runs.
 */
interface StreamPlan {
  end: StreamEnd;
  /** RST_STREAM code for the reset ends. */
  code: number;
  /** Body bytes written before a reset mid-body. */
  cut: number;
}

/** Starts one stream and ends it per its plan; resolves when it closes or at the cap. */
function runStream(
  session: ClientHttp2Session,
  run: StreamRun,
  plan: StreamPlan,
  capMs: number,
): Promise<void> {
  return new Promise((resolve) => {
    const headers: OutgoingHttpHeaders = { ":method": run.req.httpMethod, ":path": run.req.target };
    for (const [name, value] of run.req.headers) headers[name] = value;
    let stream: ClientHttp2Stream;
    try {
      stream = session.request(headers, { endStream: false });
    } catch (err) {
      // node:http2 refuses some headers (te other than trailers, bad characters): no request.
      run.labels.push(`client refused: ${err instanceof Error ? err.message : String(err)}`);
      resolve();
      return;
    }
    const timer = setTimeout(() => {
      stream.close(http2.constants.NGHTTP2_CANCEL);
      resolve();
    }, capMs);
    stream.on("error", () => undefined);
    stream.on("response", (h) => {
      const status = h[":status"];
      run.status = typeof status === "number" ? status : undefined;
      run.contentType = h["content-type"] ?? "";
      grpcStatusOf(h, run.grpcCodes);
    });
    stream.on("trailers", (h: http2.IncomingHttpHeaders) => {
      grpcStatusOf(h, run.grpcCodes);
    });
    stream.on("data", (chunk: Buffer) => run.body.push(chunk));
    stream.on("close", () => {
      clearTimeout(timer);
      resolve();
    });
    const body = run.req.body;
    const reset = () => {
      stream.close(plan.code);
    };
    switch (plan.end) {
      case "end":
        stream.end(body);
        break;
      case "rst-before-body":
        reset();
        break;
      case "rst-mid-body":
        stream.write(body.subarray(0, plan.cut), reset);
        break;
      case "rst-after-body":
        stream.write(body, reset);
        break;
      default:
        // keep-open: the body, then nothing until the cap.
        stream.write(body);
    }
  });
}

/** The HTTP/2 RPC family. */
export const rpcH2Family: Family = {
  name: "rpc-h2",
  async run(input: CaseInput): Promise<CaseOutcome> {
    const { rng } = input;
    let socket: Socket | undefined;
    const settings = rng.chance(0.1)
      ? { initialWindowSize: rng.pick([0, 1, 65535]), maxFrameSize: 16384 }
      : {};
    const session = http2.connect(`http://127.0.0.1:${input.grpcPort}`, {
      settings,
      createConnection: () => {
        socket = net.connect({ port: input.grpcPort, host: "127.0.0.1" });
        openSockets.add(socket);
        return socket;
      },
    });
    session.on("error", () => undefined);
    const runs: StreamRun[] = [];
    const plans: StreamPlan[] = [];
    for (let n = rng.int(1, 3); n > 0; n--) {
      const req = rpcRequest(rng, [
        "grpc",
        "grpc",
        "grpc",
        "grpc-web",
        "connect-unary",
        "connect-stream",
        "connect-get",
      ]);
      const labels = rng.chance(0.85)
        ? mutateRpc(rng, req)
        : [`${req.protocol} ${req.method.path} (valid)`];
      const end = rng.pick<StreamEnd>([
        "end",
        "end",
        "end",
        "rst-before-body",
        "rst-mid-body",
        "rst-after-body",
        "keep-open",
      ]);
      const plan = { end, code: rng.pick(errorCodes), cut: rng.int(0, req.body.length) };
      labels.push(`stream end=${end}${end.startsWith("rst") ? ` code ${plan.code}` : ""}`);
      runs.push({ req, labels, status: undefined, grpcCodes: [], body: [], contentType: "" });
      plans.push(plan);
    }
    const sessionEnd = rng.pick<SessionEnd>([
      "close",
      "close",
      "close",
      "destroy",
      "goaway",
      "socket-reset",
    ]);
    const goawayCode = rng.pick(errorCodes);
    const streams = Promise.all(
      runs.map((run, i) => {
        const plan = plans[i] ?? { end: "end", code: 0, cut: 0 };
        return runStream(session, run, plan, input.capMs);
      }),
    );
    if (sessionEnd === "close") {
      await streams;
      await closeSession(session, socket, input.capMs);
    } else {
      // Ends the connection while the streams are in flight (after the first write turn).
      await new Promise<void>((resolve) => setImmediate(resolve));
      // The server may have ended the session already (a protocol error): nothing to end then.
      if (session.destroyed) {
        // Nothing to do.
      } else if (sessionEnd === "destroy") session.destroy();
      else if (sessionEnd === "goaway") session.goaway(goawayCode);
      else if (socket?.destroyed === false) socket.resetAndDestroy();
      await streams;
      session.destroy();
    }
    if (socket !== undefined) {
      socket.destroy();
      openSockets.delete(socket);
    }
    return judge(runs, sessionEnd, Object.keys(settings).length > 0);
  },
};

/**
 * Closes a session gracefully, bounded: `close(callback)` never calls back on a session the
 * server has already ended, so this waits for the 'close' event itself, or destroys at the cap.
 */
async function closeSession(
  session: ClientHttp2Session,
  socket: Socket | undefined,
  capMs: number,
): Promise<void> {
  if (session.destroyed) return;
  const closed = new Promise<void>((resolve) => session.once("close", resolve));
  session.close();
  // A closing session waits for the peer to close the socket too: a server that never does
  // (a hung one) would keep us here, so the socket goes at the cap as well.
  const timer = setTimeout(() => {
    session.destroy();
    socket?.destroy();
  }, capMs);
  await closed;
  clearTimeout(timer);
}

function judge(runs: StreamRun[], sessionEnd: SessionEnd, oddSettings: boolean): CaseOutcome {
  let failure: string | undefined;
  const sent: string[] = [];
  for (const run of runs) {
    const { req } = run;
    const body = Buffer.concat(run.body);
    const codes = rpcCodesInBody(run.contentType, body);
    const deadline = hasDeadline(req.headers.map(([n]) => n).join(" "));
    const why = serverErrorIn(
      {
        status: run.status,
        grpcCodes: [...run.grpcCodes, ...codes.grpcCodes],
        connectCodes: codes.connectCodes,
      },
      deadline,
    );
    if (why !== undefined && failure === undefined)
      failure = `${why} on ${req.method.path}; answer body: ${showBytes(body, 300)}`;
    sent.push(
      `${req.httpMethod} ${JSON.stringify(req.target)} headers ${JSON.stringify(req.headers)}\n    body ${showBytes(req.body)}`,
    );
  }
  const label = `${runs.map((r) => r.labels.join(" ")).join(" | ")} | session end=${sessionEnd}${oddSettings ? " odd settings" : ""}`;
  const seen = runs
    .map(
      (r) =>
        `${r.status ?? "-"}${r.grpcCodes.length > 0 ? `/grpc-status ${r.grpcCodes.join(",")}` : ""}`,
    )
    .join(" ");
  return { label, sent: sent.join("\n  "), seen, failure };
}
