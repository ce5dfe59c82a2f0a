import http from "node:http";
import type { IncomingMessage, ServerResponse } from "node:http";
import http2 from "node:http2";
import type {
  Http2Session,
  IncomingHttpHeaders as Http2Headers,
  ServerHttp2Stream,
} from "node:http2";
import net from "node:net";
import type { AddressInfo, Socket } from "node:net";
import type tls from "node:tls";
import type { TLSSocket } from "node:tls";
import { listen } from "../../internal/listen.js";
import { untilClosed } from "../../internal/until-closed.js";
import { Http1Connections, timeoutCheckInterval } from "../http1/connections.js";
import { classifyFirstBytes, createTlsFront, refusePlaintext } from "./tls.js";
import type { GrpcTlsOptions } from "./tls.js";

/** The connection limits of the gRPC port (see GrpcServerOptions for what each one means). */
export interface PortLimits {
  handshakeTimeout: number;
  headersTimeout: number;
  requestTimeout: number;
  keepAliveTimeout: number;
  idleTimeout: number;
  maxConnections: number;
}

/** Where the port hands what it receives. */
export interface PortHandlers {
  /** An HTTP/2 stream (gRPC, Connect, gRPC-Web over h2c). */
  stream(stream: ServerHttp2Stream, headers: Http2Headers): void;
  /** An HTTP/1.1 request (Connect and gRPC-Web from browsers). */
  request(req: IncomingMessage, res: ServerResponse): void;
}

// How long a session sent away for idleness may take to close on its own (Go's http2 server
// also closes the connection a second after its GOAWAY).
const goAwayGraceMs = 1_000;

// Every HTTP/2 connection starts with this preface; HTTP/1.1 never does.
const preface = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");

/**
 * One TCP port serving HTTP/2 and HTTP/1.1. In plaintext each connection's first bytes say
 * which (node ignores `allowHTTP1` without TLS); with `tls`, ALPN does after the handshake
 * (`h2`: HTTP/2, else HTTP/1.1), and plaintext is refused at its first bytes. It bounds what a
 * client can hold: the time to show its protocol, to finish the TLS handshake and, on HTTP/2,
 * to send its SETTINGS (each within `handshakeTimeout`); HTTP/1.1 header, request and
 * keep-alive times; HTTP/2 sessions silent for `idleTimeout` are sent away (GOAWAY); at most
 * `maxConnections` TCP connections at once. Its stop loses no request: HTTP/2 sessions get
 * GOAWAY and finish their streams, HTTP/1.1 connections close between requests (see
 * Http1Connections).
 */
export class GrpcPort {
  readonly #limits: PortLimits;
  readonly #net: net.Server;
  readonly #h2: http2.Http2Server;
  readonly #h1: http.Server;
  readonly #h1Connections: Http1Connections;
  readonly #tls: tls.Server | undefined;
  readonly #sessions = new Set<Http2Session>();
  readonly #sockets = new Set<Socket>();
  // The handshake timer of the socket being handed to the HTTP/2 server: node creates its
  // session synchronously, inside the hand-over.
  #handshake: NodeJS.Timeout | undefined;
  #stopping = false;

  constructor(limits: PortLimits, handlers: PortHandlers, tlsOptions?: GrpcTlsOptions) {
    this.#limits = limits;
    this.#h2 = http2.createServer({ settings: { maxConcurrentStreams: 1000 } });
    this.#h2.on("stream", (stream: ServerHttp2Stream, headers: Http2Headers) => {
      // A stream reset with an error code, or a session that fails under it, emits `error` on
      // the stream: unheard, that is an uncaught exception. The call sees the close instead.
      stream.on("error", ignore);
      handlers.stream(stream, headers);
    });
    this.#h2.on("session", (session: Http2Session) => {
      this.#sessions.add(session);
      session.once("close", () => this.#sessions.delete(session));
      const timer = this.#handshake;
      this.#handshake = undefined;
      if (timer !== undefined) {
        // The handshake ends with the client's SETTINGS.
        const done = () => {
          clearTimeout(timer);
        };
        session.once("remoteSettings", done);
        session.once("close", done);
      }
      if (this.#stopping) session.close();
    });
    // A session silent this long (no frame either way) is sent away, and closed a second later
    // if it is still there: its streams made no progress for the whole idle time either. Without
    // that second step a stream stuck behind a zero flow-control window held its connection
    // until the server stopped, also after the client left: once node's session stops reading
    // its socket, the client's FIN goes unseen (found by the fuzz suite, as CLOSE-WAIT sockets).
    this.#h2.setTimeout(limits.idleTimeout);
    this.#h2.on("timeout", (session: Http2Session) => {
      session.close();
      const timer = setTimeout(() => {
        session.destroy();
      }, goAwayGraceMs);
      timer.unref();
      session.once("close", () => {
        clearTimeout(timer);
      });
    });
    this.#h1 = http.createServer(
      {
        headersTimeout: limits.headersTimeout,
        requestTimeout: limits.requestTimeout,
        keepAliveTimeout: limits.keepAliveTimeout,
        connectionsCheckingInterval: timeoutCheckInterval(limits),
      },
      (req: IncomingMessage, res: ServerResponse) => {
        handlers.request(req, res);
      },
    );
    this.#h1Connections = new Http1Connections(this.#h1);
    this.#tls =
      tlsOptions === undefined
        ? undefined
        : createTlsFront(tlsOptions, limits.handshakeTimeout, (socket) => {
            this.#secure(socket);
          });
    // noDelay as node's own HTTP servers do: small gRPC frames must not wait for Nagle.
    this.#net = net.createServer({ noDelay: true }, (socket) => {
      this.#accept(socket);
    });
    if (limits.maxConnections > 0) this.#net.maxConnections = limits.maxConnections;
  }

  /** Whether the port serves TLS. */
  get secure(): boolean {
    return this.#tls !== undefined;
  }

  get listening(): boolean {
    return this.#net.listening;
  }

  async listen(addr: string): Promise<AddressInfo> {
    const address = await listen(this.#net, addr, "grpc server");
    this.#stopping = false;
    this.#h1Connections.open();
    // The HTTP/1.1 server never listens (it is handed sockets), and node starts checking its
    // header and request timeouts on `listening` (stop ends them): start them here.
    this.#h1.emit("listening");
    return address;
  }

  /**
   * Stops accepting, lets the calls in flight finish and closes the connections as they go
   * idle; `signal` forces the rest closed. Resolves when every connection is gone.
   */
  async stop(signal?: AbortSignal): Promise<void> {
    this.#stopping = true;
    const closed = new Promise<void>((resolve) => {
      this.#net.close(() => {
        resolve();
      });
    });
    for (const session of this.#sessions) session.close();
    this.#h1Connections.drain();
    try {
      // Destroying the connections closes every stream, which aborts the calls that listen.
      await untilClosed(closed, signal, () => {
        for (const session of this.#sessions) session.destroy();
        for (const socket of this.#sockets) socket.destroy();
      });
    } finally {
      // Stops node's timeout checks on the HTTP/1.1 side; it has no connection left.
      this.#h1.close();
    }
  }

  /**
   * Reads a connection's first bytes and hands it to the HTTP/2 or the HTTP/1.1 server. The
   * bytes are kept aside until they decide (a prefix of the preface does not), then put back
   * once: putting them back while still listening re-fires `readable` and spins forever.
   */
  #accept(socket: Socket): void {
    this.#sockets.add(socket);
    socket.once("close", () => this.#sockets.delete(socket));
    socket.on("error", destroySocket);
    let seen: Buffer | undefined;
    const timer = setTimeout(() => {
      socket.destroy();
    }, this.#limits.handshakeTimeout);
    timer.unref();
    const onEnd = () => {
      clearTimeout(timer);
      socket.destroy();
    };
    const check = (): void => {
      let chunk: Buffer | null;
      while ((chunk = socket.read() as Buffer | null) !== null) {
        seen = seen === undefined ? chunk : Buffer.concat([seen, chunk]);
      }
      if (seen === undefined) return;
      // Too few bytes to tell: wait for more (the handshake timer bounds the wait).
      const decided = this.#tls === undefined ? plaintextProtocol(seen) : tlsOrNot(seen);
      if (decided === undefined) return;
      socket.off("readable", check);
      socket.off("end", onEnd);
      // Put back for whoever reads on; a refused connection's bytes are dropped.
      if (typeof decided === "string") socket.unshift(seen);
      switch (decided) {
        case "h2c":
          this.#handshake = timer;
          this.#h2.emit("connection", socket);
          this.#handshake = undefined;
          return;
        case "http1":
          // From here node's header timeout bounds the first request.
          clearTimeout(timer);
          this.#h1.emit("connection", socket);
          return;
        case "tls":
          // From here node's TLS handshake timeout bounds it (see createTlsFront).
          clearTimeout(timer);
          this.#tls?.emit("connection", socket);
          return;
        default:
          // Plaintext on the TLS port: answered and ended at once; the timer cuts a client that
          // does not close its side.
          refusePlaintext(socket, decided.refuse);
      }
    };
    socket.on("readable", check);
    socket.once("end", onEnd);
  }

  /**
   * A TLS connection past its handshake: `h2` goes to the HTTP/2 server, which must see its
   * preface and SETTINGS within the handshake time again; anything else (`http/1.1`, or no
   * ALPN) to the HTTP/1.1 server.
   */
  #secure(socket: TLSSocket): void {
    // The HTTP servers listen for errors too, but not before the hand-over below.
    socket.on("error", destroySocket);
    if (socket.alpnProtocol !== "h2") {
      this.#h1.emit("connection", socket);
      return;
    }
    const timer = setTimeout(() => {
      socket.destroy();
    }, this.#limits.handshakeTimeout);
    timer.unref();
    this.#handshake = timer;
    this.#h2.emit("connection", socket);
    this.#handshake = undefined;
  }
}

/** Where a plaintext port hands a connection, by its first bytes; undefined: too few yet. */
function plaintextProtocol(seen: Buffer): "h2c" | "http1" | undefined {
  const n = Math.min(seen.length, preface.length);
  const maybeH2 = seen.subarray(0, n).equals(preface.subarray(0, n));
  if (maybeH2 && seen.length < preface.length) return undefined;
  return maybeH2 ? "h2c" : "http1";
}

/** TLS, or what plaintext a TLS port refuses; undefined: too few bytes yet. */
function tlsOrNot(seen: Buffer): "tls" | { refuse: "h2c" | "http1" | "garbage" } | undefined {
  const kind = classifyFirstBytes(seen);
  if (kind === undefined || kind === "tls") return kind;
  return { refuse: kind };
}

function ignore(): void {
  // The stream's close (rstCode) tells the call what happened; the error adds nothing.
}

function destroySocket(this: Socket): void {
  this.destroy();
}
