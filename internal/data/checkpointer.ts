// WAL checkpoints off the event loop. node:sqlite is synchronous, so whatever SQLite does inside
// a statement blocks every request. In WAL mode with synchronous=NORMAL a commit only appends to
// the WAL (~25 µs here), but SQLite's automatic checkpoint runs inside the commit that crosses
// 1000 WAL pages: it copies the pages back and fsyncs, ~5 ms on this machine's disk, every ~500
// inserts. A worker thread with its own connection does that instead.
import { Worker } from "node:worker_threads";
import type { DatabaseSync } from "node:sqlite";
import type { Logger } from "kratos-ts/log";
import type { CheckpointWorkerData } from "./checkpoint-worker.js";

/** A running checkpointer. */
export interface Checkpointer {
  /** Stops the worker (after its current checkpoint) and waits for it to exit. */
  stop(): Promise<void>;
}

/**
 * Often enough to keep the WAL near SQLite's own bound (1000 pages, ~4 MiB) at a few thousand
 * inserts per second; a pass over an unchanged WAL costs next to nothing.
 */
const intervalMs = 100;

/** SQLite's default `wal_autocheckpoint`, restored when the worker cannot do the job. */
const sqliteAutocheckpoint = 1000;

/**
 * Turns off the automatic checkpoints of `db` (a WAL database at `path`) and starts a worker
 * thread that checkpoints instead. Should the worker fail, `db` checkpoints by itself again:
 * slower tails, but the WAL stays bounded.
 */
export function startCheckpointer(db: DatabaseSync, path: string, log: Logger): Checkpointer {
  db.exec("PRAGMA wal_autocheckpoint=0");
  const workerData: CheckpointWorkerData = { path, intervalMs };
  const worker = new Worker(new URL("./checkpoint-worker.js", import.meta.url), { workerData });
  // The service's lifetime is the app's, not this thread's: a process that forgot to close the
  // database still exits.
  worker.unref();
  const exited = new Promise<void>((resolve) => {
    worker.once("exit", () => {
      resolve();
    });
  });
  worker.on("error", (err: unknown) => {
    if (db.isOpen) db.exec(`PRAGMA wal_autocheckpoint=${sqliteAutocheckpoint}`);
    log.warn(
      { err, source: path },
      "WAL checkpointer failed; SQLite checkpoints on the main thread",
    );
  });
  return {
    async stop() {
      // Held until the worker is gone: awaiting `exited` alone would let a process with nothing
      // else to do exit in the middle of the shutdown, with exit code 0.
      worker.ref();
      worker.postMessage("stop");
      await exited;
    },
  };
}
