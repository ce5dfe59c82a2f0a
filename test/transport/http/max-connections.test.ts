// The per-server connection cap of the HTTP server (`maxConnections`), the HTTP twin of the gRPC
// port's test in grpc/limits.test.ts.
import assert from "node:assert/strict";
import { once } from "node:events";
import { connect } from "node:net";
import type { Socket } from "node:net";
import { describe, it } from "node:test";
import { createHttpServer } from "kratos-ts/transport/http";

/** A keep-alive socket the server has accepted: it has answered one request on it. */
async function heldSocket(port: number): Promise<Socket> {
  const socket = connect(port, "127.0.0.1");
  await once(socket, "connect");
  socket.write("GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n");
  await once(socket, "data");
  return socket;
}

describe("HTTP server maxConnections", () => {
  it("closes connections over the cap as they arrive and keeps the others", async () => {
    const server = createHttpServer({
      addr: "127.0.0.1:0",
      maxConnections: 4,
      keepAliveTimeout: 60_000,
      headersTimeout: 30_000,
    });
    await server.start();
    const port = Number(server.endpoint().port);
    const held = await Promise.all(Array.from({ length: 4 }, () => heldSocket(port)));
    try {
      const start = performance.now();
      const extra = connect(port, "127.0.0.1");
      const received: Buffer[] = [];
      extra.on("data", (chunk: Buffer) => received.push(chunk));
      extra.on("error", () => {
        // A reset instead of a close is also a refusal.
      });
      // Closed by the cap, long before any of the server's timeouts.
      await once(extra, "close");
      assert.ok(performance.now() - start < 10_000, "closed by a timeout, not by the cap");
      assert.equal(Buffer.concat(received).length, 0, "the extra connection was not served");
      for (const socket of held) assert.equal(socket.destroyed, false);
    } finally {
      for (const socket of held) socket.destroy();
      await server.stop(AbortSignal.timeout(2_000));
    }
  });
});
