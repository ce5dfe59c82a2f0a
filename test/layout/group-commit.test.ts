// The data layer's group commit: the writes of one event-loop turn share one transaction.
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { describe, it } from "node:test";
import { groupCommit } from "../../internal/data/group-commit.js";

function table() {
  const db = new DatabaseSync(":memory:");
  db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL UNIQUE)");
  const insert = db.prepare("INSERT INTO t (v) VALUES (?) RETURNING id");
  const ids = () =>
    db
      .prepare("SELECT id FROM t ORDER BY id")
      .all()
      .map((row) => row["id"]);
  return { db, insert: (v: string) => () => insert.get(v)?.["id"], ids };
}

describe("group commit", () => {
  it("runs one turn's writes in order in one transaction, after the turn", async () => {
    const { db, insert, ids } = table();
    const writes = groupCommit(db);
    const inTransaction: boolean[] = [];
    const queued = ["a", "b", "c"].map((v) =>
      writes.write(() => {
        inTransaction.push(db.isTransaction);
        return insert(v)();
      }),
    );
    // Nothing has run yet: the batch waits for the rest of this turn's writes.
    assert.deepEqual(ids(), []);
    assert.deepEqual(await Promise.all(queued), [1, 2, 3]);
    assert.deepEqual(inTransaction, [true, true, true]);
    assert.equal(db.isTransaction, false);
  });

  it("fails only the statement that failed when the transaction survives it", async () => {
    const { db, insert, ids } = table();
    const writes = groupCommit(db);
    const results = await Promise.allSettled([
      writes.write(insert("a")),
      writes.write(insert("a")), // UNIQUE
      writes.write(insert("b")),
    ]);
    assert.deepEqual(
      results.map((r) => r.status),
      ["fulfilled", "rejected", "fulfilled"],
    );
    assert.deepEqual(ids(), [1, 2]);
  });

  it("fails every write of a batch whose transaction is lost, and keeps none of its rows", async () => {
    const { db, insert, ids } = table();
    const writes = groupCommit(db);
    const results = await Promise.allSettled([
      writes.write(insert("a")),
      // What an I/O error or a full disk does to the transaction mid-batch.
      writes.write(() => {
        db.exec("ROLLBACK");
      }),
      writes.write(insert("b")),
    ]);
    assert.deepEqual(
      results.map((r) => r.status),
      ["rejected", "rejected", "rejected"],
    );
    assert.deepEqual(ids(), []);
    // The next turn's batch starts clean.
    assert.equal(await writes.write(insert("c")), 1);
  });

  it("flush runs the queued writes at once", async () => {
    const { db, insert, ids } = table();
    const writes = groupCommit(db);
    const queued = writes.write(insert("a"));
    writes.flush();
    assert.deepEqual(ids(), [1]);
    assert.equal(await queued, 1);
  });

  it("fails a write that comes after the database closed, not the process", async () => {
    const { db, insert } = table();
    const writes = groupCommit(db);
    db.close();
    await assert.rejects(writes.write(insert("late")), /not open/);
  });
});
