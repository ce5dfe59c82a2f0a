// The data layer's resources: one SQLite database (node:sqlite, embedded, nothing to install),
// opened from config, tuned for a server, with its schema created, closed when the app stops.
import { existsSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync } from "node:sqlite";
import type { Logger } from "kratos-ts/log";
import type { Data_Database } from "../conf/conf_pb.js";
import { startCheckpointer } from "./checkpointer.js";
import { groupCommit } from "./group-commit.js";

/** The open resources the repositories share. */
export interface Data {
  /** For reads; writes go through {@link Data.write}. */
  readonly db: DatabaseSync;
  /**
   * Runs a write statement in one transaction with the other writes of this event-loop turn
   * (group-commit.ts); resolves with the statement's result once that transaction committed.
   */
  write<T>(statement: () => T): Promise<T>;
  /** Stops the WAL checkpointer and closes the database; a second call waits for the first. */
  close(): Promise<void>;
}

/**
 * How long a statement waits for a lock that another process holds (a second instance on the
 * same file) before failing with SQLITE_BUSY. The wait blocks the event loop, but in WAL mode
 * only writers lock each other out, for one commit at a time: waits are microseconds unless
 * something is wrong, and then failing fast would only turn a slow request into a failed one.
 */
const busyTimeoutMs = 5000;

const schema = `
CREATE TABLE IF NOT EXISTS greetings (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  name        TEXT    NOT NULL,
  message     TEXT    NOT NULL,
  create_time INTEGER NOT NULL
)`;

/**
 * Opens the database named by `data.database`, tuned for a server when it is a file, and creates
 * the schema. Throws one line naming
 * the key and the path when the driver is unknown or the file cannot be opened.
 */
export function openData(conf: Data_Database | undefined, log: Logger): Data {
  const driver = conf?.driver || "sqlite";
  if (driver !== "sqlite") {
    throw new Error(`data.database.driver: unsupported driver "${driver}" (supported: sqlite)`);
  }
  const source = conf?.source ?? "";
  if (source === "") throw new Error("data.database.source: missing (a file path or :memory:)");
  let db: DatabaseSync;
  let wal = false;
  try {
    if (source !== ":memory:") createDir(dirname(source));
    db = new DatabaseSync(source);
    if (source !== ":memory:") wal = tune(db, source, log);
    db.exec(schema);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new Error(`data.database.source: cannot open "${source}": ${why}`, { cause: err });
  }
  const checkpointer = wal ? startCheckpointer(db, source, log) : undefined;
  const writes = groupCommit(db);
  log.info({ driver, source }, "database opened");
  let closed: Promise<void> | undefined;
  return {
    db,
    write: (statement) => writes.write(statement),
    close() {
      closed ??= (async () => {
        writes.flush();
        // The worker first: the last connection to close folds the WAL into the database file.
        await checkpointer?.stop();
        db.close();
        log.info({ source }, "database closed");
      })();
      return closed;
    },
  };
}

/**
 * Settings for a server (SQLite's defaults suit an app that writes rarely): WAL, so a commit
 * appends to the log instead of rewriting pages under a rollback journal, and readers and the
 * writer stop blocking each other; synchronous=NORMAL, so a commit is not fsynced (measured
 * here: ~690 µs per insert before, ~25 µs after). A power cut may lose the last commits, never
 * the database's integrity. Checkpoints move to a worker thread (checkpointer.ts). Returns
 * whether the database is in WAL mode.
 */
function tune(db: DatabaseSync, source: string, log: Logger): boolean {
  db.exec(`PRAGMA busy_timeout=${busyTimeoutMs}`);
  const mode = db.prepare("PRAGMA journal_mode=WAL").get() as { journal_mode: string };
  if (mode.journal_mode !== "wal") {
    // Some file systems (network shares) cannot share the WAL index; SQLite says so by
    // keeping the old mode, and the old mode still works, only slower.
    log.warn({ source, journalMode: mode.journal_mode }, "database: WAL unavailable");
    return false;
  }
  db.exec("PRAGMA synchronous=NORMAL");
  return true;
}

/**
 * Creates `dir` and its missing parents, one level at a time. Not `mkdirSync(recursive)`: on
 * Node 24 that spins forever under a parent that refuses new entries (measured: `/proc/x`).
 */
function createDir(dir: string): void {
  if (existsSync(dir)) return;
  const parent = dirname(dir);
  if (parent !== dir) createDir(parent);
  mkdirSync(dir);
}
