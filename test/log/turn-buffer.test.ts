import assert from "node:assert/strict";
import { setImmediate as turnEnd } from "node:timers/promises";
import { describe, it } from "node:test";
import { createLogger, turnBuffer } from "kratos-ts/log";

/** A sink that keeps each write it is given. */
function sink(): { writes: string[]; write(chunk: string): void } {
  const writes: string[] = [];
  return { writes, write: (chunk) => void writes.push(chunk) };
}

function lineCount(chunk: string): number {
  return chunk.split("\n").length - 1;
}

describe("turnBuffer", () => {
  it("gives the sink a turn's lines in one write, at the end of the turn", async () => {
    const out = sink();
    const log = createLogger({ destination: turnBuffer(out) });
    log.info("one");
    log.info("two");
    log.warn("three");
    assert.equal(out.writes.length, 0, "nothing is written while the turn runs");
    await turnEnd();
    assert.equal(out.writes.length, 1);
    const msgs = (out.writes[0] ?? "")
      .trimEnd()
      .split("\n")
      .map((l) => (JSON.parse(l) as { msg: string }).msg);
    assert.deepEqual(msgs, ["one", "two", "three"]);
    log.info("four");
    await turnEnd();
    assert.equal(out.writes.length, 2, "the next turn's lines are the next write");
  });

  it("writes an error line at once, after the lines held before it", () => {
    const out = sink();
    const log = createLogger({ destination: turnBuffer(out) });
    log.info("before");
    log.error("failed");
    assert.equal(out.writes.length, 1);
    assert.equal(lineCount(out.writes[0] ?? ""), 2);
    assert.match(out.writes[0] ?? "", /"before".*\n.*"failed"/);
  });

  it("never holds much more than maxChars: a burst is written as it grows", () => {
    const out = sink();
    const log = createLogger({ destination: turnBuffer(out, { maxChars: 2000 }) });
    for (let i = 0; i < 100; i++) log.info({ pad: "x".repeat(200) }, "line");
    // ~100 lines of ~300 characters: written in chunks of ~2000 during the turn.
    assert.ok(out.writes.length >= 10, `${out.writes.length} writes`);
    for (const chunk of out.writes) assert.ok(chunk.length < 2000 + 400, `${chunk.length}`);
    const written = out.writes.reduce((n, chunk) => n + lineCount(chunk), 0);
    assert.ok(written < 100, "the last lines wait for the turn's end");
  });

  it("writes what it holds on flush, and at a custom write-through level", async () => {
    const out = sink();
    const destination = turnBuffer(out, { writeThroughLevel: 40 });
    const log = createLogger({ destination });
    log.info("held");
    assert.equal(out.writes.length, 0);
    await new Promise<void>((resolve, reject) => {
      destination.flush((err) => {
        if (err) reject(err);
        else resolve();
      });
    });
    assert.equal(out.writes.length, 1);
    log.warn("at once");
    assert.equal(out.writes.length, 2);
  });
});
