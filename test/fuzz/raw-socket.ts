// One raw TCP exchange: connect, write some chunks, end the connection in one of the ways a
// client can, and collect what the server sent back. Nothing waits on a clock except the
// per-case cap: the exchange ends as soon as the server closes or the caller's `complete`
// says the answer is whole.
import net from "node:net";
import type { Socket } from "node:net";

/** How the client ends its side after writing. */
export type EndMode =
  /** Half-close (FIN) and read the answer. */
  | "half-close"
  /** Keep the connection open and read the answer. */
  | "keep"
  /** Close at once (FIN), reading nothing. */
  | "destroy"
  /** Abort with a TCP RST, reading nothing. */
  | "reset";

/** What came back. */
export interface RawResult {
  data: Buffer;
  /** The server closed (or reset) the connection before the cap. */
  closedByServer: boolean;
  /** A socket error (ECONNRESET...), which is not a failure by itself. */
  error: string | undefined;
}

/** Sockets of the run, so teardown can destroy any that are left. */
export const openSockets = new Set<Socket>();

/** Destroys every socket the fuzzer still has open. */
export function destroyOpenSockets(): void {
  for (const socket of openSockets) socket.destroy();
  openSockets.clear();
}

/**
 * Sends `chunks` to `port` (each its own write, so the server sees them split) and ends per
 * `end`; resolves after the server closes, `complete(data)` holds, or `capMs` passes.
 */
export function rawExchange(
  port: number,
  chunks: readonly Buffer[],
  end: EndMode,
  capMs: number,
  complete: (data: Buffer) => boolean = () => false,
): Promise<RawResult> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: "127.0.0.1", noDelay: true });
    openSockets.add(socket);
    const received: Buffer[] = [];
    let error: string | undefined;
    let finished = false;
    const finish = (closedByServer: boolean) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      openSockets.delete(socket);
      socket.destroy();
      resolve({ data: Buffer.concat(received), closedByServer, error });
    };
    const timer = setTimeout(() => {
      finish(false);
    }, capMs);
    socket.on("data", (chunk: Buffer) => {
      received.push(chunk);
      if (complete(Buffer.concat(received))) finish(false);
    });
    socket.on("error", (err: NodeJS.ErrnoException) => {
      error = err.code ?? err.message;
    });
    socket.on("close", () => {
      finish(true);
    });
    socket.once("connect", () => {
      void writeAll(socket, chunks).then(() => {
        if (finished) return;
        if (end === "half-close") socket.end();
        else if (end === "destroy") finish(false);
        else if (end === "reset") {
          socket.resetAndDestroy();
          finish(false);
        }
      });
    });
  });
}

/** Writes the chunks one after another, each flushed before the next. */
async function writeAll(socket: Socket, chunks: readonly Buffer[]): Promise<void> {
  for (const chunk of chunks) {
    if (socket.destroyed || !socket.writable) return;
    if (chunk.byteLength === 0) continue;
    await new Promise<void>((resolve) => {
      socket.write(chunk, () => {
        resolve();
      });
    });
  }
}
