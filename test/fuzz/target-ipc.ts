// What the fuzz target and its parent say to each other over IPC, and what the target writes
// to stderr that the parent looks for. Kept apart from target-server.ts, which starts the
// servers when imported.

/**
 * A message from the parent: "stats" asks for memory figures (after a full GC when `gc`),
 * "ping" for a "pong" (a heartbeat: a stuck event loop answers neither).
 */
export interface ParentMessage {
  type: "stats" | "ping";
  seq?: number;
  gc?: boolean;
}

/** The server's memory (bytes) and what it holds open, after a full GC. */
export interface Memory {
  rss: number;
  heapUsed: number;
  /** Memory of C++ objects bound to JS ones (buffers, zlib, HTTP/2 sessions). */
  external: number;
  /** Active handles and requests (sockets, servers, timers). */
  handles: number;
}

/** A message to the parent. */
export type ChildMessage =
  | { type: "ready"; http: string; grpc: string }
  | ({ type: "stats" } & Memory)
  | { type: "pong"; seq: number };

/** The line recovery writes for a handler bug: the parent treats it as a failure. */
export const recoveredMarker = "recovered from an unexpected error";
