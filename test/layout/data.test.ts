// The data layer's SQLite settings for a server, read back from the database itself.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { discardLogger } from "kratos-ts/log";
import { Data_DatabaseSchema } from "../../internal/conf/conf_pb.js";
import { openData } from "../../internal/data/data.js";
import type { Data } from "../../internal/data/data.js";
import { SqliteGreetingRepo } from "../../internal/data/greeting-repo.js";

function open(source: string): Data {
  return openData(create(Data_DatabaseSchema, { driver: "sqlite", source }), discardLogger);
}

function pragma(data: Data, name: string): unknown {
  const row = data.db.prepare(`PRAGMA ${name}`).get() as Record<string, unknown> | undefined;
  return row === undefined ? undefined : Object.values(row)[0];
}

/** A temp folder with the path of a database file in it. */
function tempDb() {
  const dir = mkdtempSync(join(tmpdir(), "kratos-ts-data-"));
  return {
    file: join(dir, "greetings.db"),
    remove: () => {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Polls `check` until it holds; fails after `ms` (a deadline, not a sleep the test relies on). */
async function eventually(check: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`not within ${ms} ms: ${what}`);
    await delay(10);
  }
}

describe("helloworld data layer", () => {
  it("opens a file database in WAL mode with synchronous=NORMAL and a busy timeout", async () => {
    const tmp = tempDb();
    const data = open(tmp.file);
    try {
      assert.equal(pragma(data, "journal_mode"), "wal");
      assert.equal(pragma(data, "synchronous"), 1); // NORMAL
      assert.equal(pragma(data, "busy_timeout"), 5000);
      // Checkpoints are the worker's job, not the job of whichever INSERT crosses the limit.
      assert.equal(pragma(data, "wal_autocheckpoint"), 0);
    } finally {
      await data.close();
      tmp.remove();
    }
  });

  it("checkpoints the WAL off the main connection and folds it in on close", async () => {
    const tmp = tempDb();
    const data = open(tmp.file);
    try {
      const repo = new SqliteGreetingRepo(data);
      const before = statSync(tmp.file).size;
      for (let i = 0; i < 200; i++) {
        await repo.save({ name: `n${i}`, message: `Hello n${i}`, createTime: new Date() });
      }
      // The rows reach the database file itself although this connection never checkpoints.
      await eventually(() => statSync(tmp.file).size > before, "the database file grows");
      await data.close();
      assert.equal(existsSync(`${tmp.file}-wal`), false);
      const again = open(tmp.file);
      assert.equal((await new SqliteGreetingRepo(again).findById(200n))?.name, "n199");
      await again.close();
    } finally {
      await data.close();
      tmp.remove();
    }
  });

  it("keeps an in-memory database as SQLite makes it (no WAL for :memory:)", async () => {
    const data = open(":memory:");
    assert.equal(pragma(data, "journal_mode"), "memory");
    await data.close();
  });
});
