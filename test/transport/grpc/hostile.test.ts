// The gRPC port against a client with nothing but a socket: packets that crashed the process
// (an error event on a stream nobody listened to) or spun its event loop (the protocol sniffer),
// each followed by probes that must still be answered. The server runs in a child process, so a
// crash is an exit and a spin is a probe without an answer.
import assert from "node:assert/strict";
import http2 from "node:http2";
import { after, afterEach, before, describe, it } from "node:test";
import { startTarget } from "../../helpers/target.js";
import type { Target } from "../../helpers/target.js";
import {
  closedWithin,
  connect,
  envelope,
  frameHeader,
  grpcHeaders,
  grpcStatus,
  h2Request,
  h2Session,
  rawGrpcOpening,
  rawReset,
} from "../../helpers/wire.js";

const preface = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");

describe("the gRPC port under hostile input", () => {
  let target: Target;

  const options = { grpc: { handshakeTimeout: 300 } };

  before(async () => {
    target = await startTarget(options);
  });

  after(async () => {
    // SIGTERM still stops it, gracefully: a spinning process would ignore it.
    assert.equal(await target.stop(), 0, target.stderr());
  });

  /** Both ports still answer, over HTTP/1.1 (Connect) and HTTP/2 (gRPC). */
  async function probe(): Promise<void> {
    assert.equal(target.exited(), false, `the server crashed:\n${target.stderr()}`);
    const signal = AbortSignal.timeout(5_000);
    const connect = await fetch(`http://127.0.0.1:${target.grpcPort}/grpc.health.v1.Health/Check`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
      signal,
    });
    assert.deepEqual(await connect.json(), { status: "SERVING" });
    const ping = await fetch(`http://127.0.0.1:${target.httpPort}/v1/ping`, { signal });
    assert.equal(ping.status, 200);
    const { session } = await h2Session(target.grpcPort);
    try {
      const answer = await h2Request(
        session,
        grpcHeaders("/grpc.health.v1.Health/Check"),
        envelope(new Uint8Array()),
      );
      assert.equal(grpcStatus(answer), 0);
    } finally {
      session.destroy();
    }
  }

  afterEach(async () => {
    try {
      await probe();
    } finally {
      // A crashed or hung target fails its own test, not the ones after it.
      if (target.exited() || !(await answers())) {
        await target.stop(1_000);
        target = await startTarget(options);
      }
    }
  });

  async function answers(): Promise<boolean> {
    try {
      const r = await fetch(`http://127.0.0.1:${target.httpPort}/v1/ping`, {
        signal: AbortSignal.timeout(2_000),
      });
      return r.ok;
    } catch {
      return false;
    }
  }

  const resetCodes = {
    PROTOCOL_ERROR: http2.constants.NGHTTP2_PROTOCOL_ERROR,
    INTERNAL_ERROR: http2.constants.NGHTTP2_INTERNAL_ERROR,
    FLOW_CONTROL_ERROR: http2.constants.NGHTTP2_FLOW_CONTROL_ERROR,
    ENHANCE_YOUR_CALM: http2.constants.NGHTTP2_ENHANCE_YOUR_CALM,
  };
  // Bytes on the wire, in one write: the server meets the reset while it sets the stream up.
  for (const [name, code] of Object.entries(resetCodes)) {
    for (const path of ["/nope.v1.Nope/Missing", "/echo.v1.EchoService/Say"]) {
      it(`survives a stream to ${path} reset with ${name} in its first packet`, async () => {
        const socket = await connect(target.grpcPort);
        socket.write(
          Buffer.concat([rawGrpcOpening(path, envelope(Buffer.alloc(100))), rawReset(code)]),
        );
        socket.end();
        await closedWithin(socket, 5_000);
      });
    }
  }

  it("survives a TCP reset under an open stream", async () => {
    const socket = await connect(target.grpcPort);
    socket.write(rawGrpcOpening("/nope.v1.Nope/Missing", envelope(Buffer.alloc(100))));
    // The server has answered (trailers-only) and waits for the client to end the stream.
    await new Promise((resolve) => socket.once("data", resolve));
    socket.resetAndDestroy();
    await closedWithin(socket, 5_000);
  });

  it("survives a DATA frame over the largest frame size under an open stream", async () => {
    const socket = await connect(target.grpcPort);
    // A header declaring 1 MiB, over the 16 KiB the server allows: a connection error.
    socket.write(
      Buffer.concat([
        rawGrpcOpening("/nope.v1.Nope/Missing", envelope(Buffer.alloc(100))),
        frameHeader(1 << 20, 0, 0, 1),
        Buffer.alloc(1024),
      ]),
    );
    await closedWithin(socket, 5_000);
  });

  for (const n of [1, 16, 23]) {
    it(`answers while a connection holds the first ${n} bytes of the HTTP/2 preface, then closes it`, async () => {
      const socket = await connect(target.grpcPort);
      socket.write(preface.subarray(0, n));
      await probe();
      await closedWithin(socket, 5_000);
    });
  }

  it("closes a connection that never says anything", async () => {
    const socket = await connect(target.grpcPort);
    await closedWithin(socket, 5_000);
  });
});
