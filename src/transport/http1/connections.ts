import type { IncomingMessage, Server as NodeHttpServer, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import tls from "node:tls";
import { clientErrorResponse, isPeerGone } from "./client-error.js";

/** Options of {@link Http1Connections}; every field is optional. */
export interface Http1ConnectionOptions {
  /**
   * Bytes of a request body left unread by a reply that are still read and discarded to keep
   * the connection (Go's net/http allows 256 KiB); a longer or unbounded rest closes it.
   */
  drainBytes?: number;
  /**
   * How long a connection we close waits, no longer reading, before it is reset: time for the
   * peer to read our last reply, which a reset would discard. Default 500 ms (as Go's).
   */
  lingerMs?: number;
  /**
   * On stop, how long an idle keep-alive connection may still send one more request (answered
   * with `Connection: close`) after its last reply, before it is closed. Default 1 000 ms.
   */
  drainIdleMs?: number;
}

const defaults = { drainBytes: 256 * 1024, lingerMs: 500, drainIdleMs: 1_000 };

/**
 * Whether a reply sent now ends its connection: the request's body is not all read, and its
 * rest is unbounded (chunked) or over the drain allowance. The reply then says
 * `Connection: close`, and {@link Http1Connections} closes it without reading that rest.
 */
export function closesAfterReply(
  req: IncomingMessage,
  drainBytes: number = defaults.drainBytes,
): boolean {
  if (req.complete) return false;
  if (req.headers["transfer-encoding"] !== undefined) return true;
  // No Content-Length and no Transfer-Encoding: no body (node may not have marked it complete
  // yet when the reply is written from the request event).
  return !(Number(req.headers["content-length"] ?? 0) <= drainBytes);
}

interface Connection {
  /** Requests received and not yet answered (pipelined requests queue up). */
  active: number;
  /** When the last reply finished (or the connection opened): the start of its idleness. */
  idleSince: number;
  /** The reply of the request in progress, if any. */
  current: ServerResponse | undefined;
  /** The current request was answered in full while its body still streams in. */
  replied: boolean;
  closing: boolean;
  /** The pending close of a stopping server's idle connection, or the reset of a lingering one. */
  timer: NodeJS.Timeout | undefined;
}

/**
 * The HTTP/1.1 connections of a node server, kept so that no client can hold one without
 * limit and a stop loses no request: parser errors and timeouts get the Kratos error body; an
 * unread request body after a reply is drained up to a small allowance, past it the connection
 * closes; a closed connection lingers so that the peer can read the last reply; on stop, every
 * reply says `Connection: close` and a keep-alive connection is closed only between requests.
 * Both the HTTP server and the gRPC port's HTTP/1.1 side (Connect, gRPC-Web) use it.
 */
export class Http1Connections {
  readonly #options: Required<Http1ConnectionOptions>;
  readonly #connections = new Map<Socket, Connection>();
  // Over TLS, the TCP sockets, also those still in their handshake (not in #connections yet).
  readonly #tcpSockets = new Set<Socket>();
  #draining = false;

  constructor(server: NodeHttpServer, options: Http1ConnectionOptions = {}) {
    this.#options = { ...defaults, ...options };
    if (server instanceof tls.Server) {
      // Requests arrive on the TLS socket, not on the TCP one `connection` announces.
      server.on("connection", (socket: Socket) => {
        this.#tcpSockets.add(socket);
        socket.once("close", () => this.#tcpSockets.delete(socket));
      });
      server.on("secureConnection", (socket: Socket) => {
        this.#track(socket);
      });
    } else {
      server.on("connection", (socket: Socket) => {
        this.#track(socket);
      });
    }
    // First among the request listeners: a stopping server's reply must carry the close, and a
    // handler may answer synchronously.
    server.prependListener("request", (req: IncomingMessage, res: ServerResponse) => {
      this.#onRequest(req, res);
    });
    server.on("clientError", (err: Error, socket: Socket) => {
      this.#onClientError(err, socket);
    });
  }

  /** Serves normally again (a server started after a stop). */
  open(): void {
    this.#draining = false;
  }

  /**
   * Starts a graceful stop: every reply from now on closes its connection, and idle ones close
   * once they have been idle for `drainIdleMs` without sending another request.
   */
  drain(): void {
    this.#draining = true;
    for (const [socket, conn] of this.#connections) {
      if (conn.active === 0) this.#closeWhenIdle(socket, conn);
    }
  }

  /** Destroys every connection (a forced stop). */
  destroyAll(): void {
    for (const socket of this.#connections.keys()) socket.destroy();
    for (const socket of this.#tcpSockets) socket.destroy();
  }

  #track(socket: Socket): void {
    const conn: Connection = {
      active: 0,
      idleSince: Date.now(),
      current: undefined,
      replied: false,
      closing: false,
      timer: undefined,
    };
    this.#connections.set(socket, conn);
    socket.once("close", () => {
      clearTimeout(conn.timer);
      this.#connections.delete(socket);
    });
    if (this.#draining) this.#closeWhenIdle(socket, conn);
  }

  #onRequest(req: IncomingMessage, res: ServerResponse): void {
    const socket = req.socket;
    const conn = this.#connections.get(socket);
    if (conn === undefined) return;
    conn.active++;
    conn.current = res;
    conn.replied = false;
    if (this.#draining) res.setHeader("connection", "close");
    // `close` follows `finish` within a tick: node's own finish handling (which may have started
    // to close the socket) has run by then, and one listener per request is enough.
    res.on("close", () => {
      conn.active--;
      conn.idleSince = Date.now();
      if (conn.current === res) conn.current = undefined;
      if (res.writableFinished && !req.complete) this.#unreadBody(req, socket, conn);
      if (this.#draining && conn.active === 0) this.#closeWhenIdle(socket, conn);
    });
  }

  /**
   * A reply went out before its request's body was read. A small rest is drained (node reads
   * and discards it) to keep the connection; anything more is not read at all.
   */
  #unreadBody(req: IncomingMessage, socket: Socket, conn: Connection): void {
    if (socket.writableEnded) {
      // The reply said `Connection: close`: node is closing, and would reset at once.
      this.#linger(socket, conn);
      return;
    }
    if (!closesAfterReply(req, this.#options.drainBytes)) {
      // Node drains it; a rest that never comes is cut by the request timeout, unanswered.
      conn.replied = true;
      return;
    }
    socket.end();
    this.#linger(socket, conn);
  }

  /**
   * Closes a connection without a reset: our side is ended (a FIN), reading stops, and the
   * socket is destroyed once the peer closes or `lingerMs` passes. A reset right away could
   * discard the reply the peer has not read yet (RFC 9112, section 9.6).
   */
  #linger(socket: Socket, conn: Connection): void {
    if (conn.closing) return;
    conn.closing = true;
    // Node's `destroySoon` destroys the socket as soon as the FIN is out: its listener is the
    // socket's own `destroy`, which only that reference removes.
    // eslint-disable-next-line @typescript-eslint/unbound-method
    socket.removeListener("finish", socket.destroy);
    socket.pause();
    this.#resetAfterLinger(socket, conn);
  }

  #resetAfterLinger(socket: Socket, conn: Connection): void {
    clearTimeout(conn.timer);
    conn.timer = setTimeout(() => {
      socket.destroy();
    }, this.#options.lingerMs);
    conn.timer.unref();
  }

  /**
   * Closes an idle connection of a stopping server once it has been idle for `drainIdleMs`: a
   * client under load sends its next request within that time and gets a reply that closes the
   * connection, instead of a reset on a request it already sent.
   */
  #closeWhenIdle(socket: Socket, conn: Connection): void {
    if (conn.closing) return;
    const wait = Math.max(0, conn.idleSince + this.#options.drainIdleMs - Date.now());
    clearTimeout(conn.timer);
    conn.timer = setTimeout(() => {
      conn.timer = undefined;
      if (conn.active > 0 || conn.closing || socket.destroyed) return;
      conn.closing = true;
      // Still reading: the peer's FIN (node then closes) ends the socket; a request that crossed
      // ours in flight is dropped with it, as at any keep-alive timeout.
      socket.end();
      this.#resetAfterLinger(socket, conn);
    }, wait);
    conn.timer.unref();
  }

  #onClientError(err: Error & { code?: string }, socket: Socket): void {
    const conn = this.#connections.get(socket);
    if (
      isPeerGone(err) ||
      !socket.writable ||
      conn === undefined ||
      conn.replied ||
      conn.current?.headersSent === true
    ) {
      // Nothing to answer, or a reply of this request is already out: a second one would mix.
      socket.destroy();
      return;
    }
    socket.end(clientErrorResponse(err));
    this.#linger(socket, conn);
  }
}

/**
 * How often node should check the HTTP/1.1 header and request timeouts: a quarter of the
 * shorter one, within 50 ms..1 s. Node's default, 30 s, lets a 30 s request timeout fire at up
 * to 60 s.
 */
export function timeoutCheckInterval(limits: {
  headersTimeout: number;
  requestTimeout: number;
}): number {
  const shortest = Math.min(
    ...[limits.headersTimeout, limits.requestTimeout].filter((t) => t > 0),
    30_000,
  );
  return Math.max(50, Math.min(1_000, Math.floor(shortest / 4)));
}
