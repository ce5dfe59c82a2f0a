// The body of the checkpointer's worker thread (see checkpointer.ts): a second connection to the
// service's database that moves the WAL back into the database file on a timer. Everything it
// does (page copies, fsyncs) would otherwise run inside some request's INSERT on the event loop.
import { DatabaseSync } from "node:sqlite";
import { parentPort, workerData } from "node:worker_threads";

/** What checkpointer.ts hands the worker. */
export interface CheckpointWorkerData {
  /** The database file. */
  path: string;
  /** Milliseconds between checkpoints. */
  intervalMs: number;
}

function isWorkerData(value: unknown): value is CheckpointWorkerData {
  if (typeof value !== "object" || value === null) return false;
  const data = value as Record<string, unknown>;
  return typeof data["path"] === "string" && typeof data["intervalMs"] === "number";
}

const data: unknown = workerData;
if (parentPort === null || !isWorkerData(data)) {
  throw new Error("checkpoint-worker: start it with startCheckpointer (internal/data)");
}
const port = parentPort;
const db = new DatabaseSync(data.path);
// PASSIVE never waits for a lock and never blocks the main connection's writers: it copies what
// no reader still needs, and the next pass takes the rest.
const checkpoint = db.prepare("PRAGMA wal_checkpoint(PASSIVE)");
const timer = setInterval(() => {
  checkpoint.get();
}, data.intervalMs);
port.once("message", () => {
  clearInterval(timer);
  db.close();
  port.close();
});
