// Group commit: the writes requested during one turn of the event loop run in one transaction,
// right after the turn's I/O callbacks (setImmediate). node:sqlite runs every statement on the
// event loop, and in WAL mode a commit (locks, WAL append, index update) costs several inserts.
// Measured here with the cores contended: 45-140 µs per autocommitted insert, 7-25 µs per insert
// in batches of 8-32 (~26 µs autocommitted on a lightly loaded machine).
import type { DatabaseSync } from "node:sqlite";

/** Batches writes into shared transactions. */
export interface GroupCommit {
  /**
   * Queues `statement` for the next batch; resolves with its result once the batch has
   * committed, so a caller never answers with a row that a failed commit rolled back. Rejects
   * with the statement's error, or with the commit's error for every write of the batch.
   */
  write<T>(statement: () => T): Promise<T>;
  /** Runs the queued writes now (before closing the database). */
  flush(): void;
}

interface QueuedWrite {
  statement: () => unknown;
  resolve: (result: unknown) => void;
  reject: (err: unknown) => void;
}

/** Group commit on `db`; statements run in the order they were queued. */
export function groupCommit(db: DatabaseSync): GroupCommit {
  let queue: QueuedWrite[] = [];

  const run = (): void => {
    const batch = queue;
    queue = [];
    if (batch.length === 0) return;
    const done: { write: QueuedWrite; result: unknown }[] = [];
    try {
      // IMMEDIATE: take the write lock up front, so a second instance on the file makes this
      // batch wait (busy_timeout) at BEGIN instead of failing it halfway.
      db.exec("BEGIN IMMEDIATE");
      for (const write of batch) {
        let failure: { err: unknown } | undefined;
        try {
          done.push({ write, result: write.statement() });
        } catch (err) {
          failure = { err };
        }
        // SQLite undoes a failed statement alone, unless the error ended the whole transaction
        // (I/O error, disk full): then the batch's earlier writes are gone too, and the next
        // statement would commit on its own.
        if (!db.isTransaction) {
          throw failure?.err instanceof Error
            ? failure.err
            : new Error("transaction ended mid-batch", { cause: failure?.err });
        }
        if (failure !== undefined) write.reject(failure.err);
      }
      db.exec("COMMIT");
    } catch (err) {
      rollback(db);
      for (const write of batch) write.reject(err);
      return;
    }
    for (const { write, result } of done) write.resolve(result);
  };

  return {
    write<T>(statement: () => T): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        if (queue.length === 0) setImmediate(run);
        queue.push({ statement, resolve: resolve as (result: unknown) => void, reject });
      });
    },
    flush: run,
  };
}

/**
 * Ends the transaction a failed batch left open. Runs inside setImmediate, where a throw would
 * end the process: when even ROLLBACK fails, SQLite has rolled back or closed already, and the
 * batch's callers have their error.
 */
function rollback(db: DatabaseSync): void {
  try {
    if (db.isOpen && db.isTransaction) db.exec("ROLLBACK");
  } catch {
    // Nothing left to undo.
  }
}
