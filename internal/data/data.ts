// The data layer's resources: one SQLite database (node:sqlite, embedded, nothing to install),
// opened from config with its schema created, closed when the app stops.
import { existsSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync } from "node:sqlite";
import type { Logger } from "kratos-ts/log";
import type { Data_Database } from "../conf/conf_pb.js";

/** The open resources the repositories share. */
export interface Data {
  readonly db: DatabaseSync;
  close(): void;
}

const schema = `
CREATE TABLE IF NOT EXISTS greetings (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  name        TEXT    NOT NULL,
  message     TEXT    NOT NULL,
  create_time INTEGER NOT NULL
)`;

/**
 * Opens the database named by `data.database` and creates the schema. Throws one line naming
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
  try {
    if (source !== ":memory:") createDir(dirname(source));
    db = new DatabaseSync(source);
    db.exec(schema);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new Error(`data.database.source: cannot open "${source}": ${why}`, { cause: err });
  }
  log.info({ driver, source }, "database opened");
  return {
    db,
    close() {
      if (!db.isOpen) return;
      db.close();
      log.info({ source }, "database closed");
    },
  };
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
