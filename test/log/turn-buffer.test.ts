import assert from "node:assert/strict";
import { setImmediate as turnEnd } from "node:timers/promises";
import { describe, it } from "node:test";
import { createLogger, turnBuffer } from "kratos-ts/log";

/** A sink that keeps each write it is given. */
function sink(): {
  writes: string[];
  flushes: number;
  write(chunk: string): void;
  flush(done: () => void): void;
} {
  const out = {
    writes: [] as string[],
    flushes: 0,
    write: (chunk: string) => void out.writes.push(chunk),
    flush: (done: () => void) => {
      out.flushes++;
      done();
    },
  };
  return out;
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

  it("writes at most maxChars at a time: a burst is written as it grows, in whole lines", async () => {
    const out = sink();
    const log = createLogger({ destination: turnBuffer(out, { maxChars: 2000 }) });
    for (let i = 0; i < 100; i++) log.info({ pad: "x".repeat(200) }, "line");
    // ~100 lines of ~300 characters: written in chunks of at most 2000 during the turn.
    assert.ok(out.writes.length >= 10, `${out.writes.length} writes`);
    for (const chunk of out.writes) {
      assert.ok(chunk.length <= 2000, `${chunk.length}`);
      assert.ok(chunk.endsWith("\n"), "a write ends at a line's end");
    }
    const written = out.writes.reduce((n, chunk) => n + lineCount(chunk), 0);
    assert.ok(written < 100, "the last lines wait for the turn's end");
    const before = out.writes.length;
    log.info({ pad: "y".repeat(3000) }, "longer than maxChars");
    assert.equal(out.writes.length, before + 1, "the held lines went first");
    assert.doesNotMatch(out.writes.at(-1) ?? "", /longer than maxChars/);
    await turnEnd();
    assert.equal(lineCount(out.writes.at(-1) ?? ""), 1, "a longer line is written alone");
    assert.match(out.writes.at(-1) ?? "", /longer than maxChars/);
  });

  it("drops a batch its sink refuses at the turn's end, with one warning, and goes on", async () => {
    let refuse = true;
    const written: string[] = [];
    const log = createLogger({
      destination: turnBuffer({
        write: (chunk: string) => {
          if (refuse) throw new Error("EPIPE: broken pipe");
          written.push(chunk);
        },
      }),
    });
    const warnings: string[] = [];
    const onWarning = (w: Error) => void warnings.push(w.message);
    process.on("warning", onWarning);
    try {
      log.info("lost");
      await turnEnd();
      log.info("lost too");
      await turnEnd();
      refuse = false;
      log.info("kept");
      await turnEnd();
      await turnEnd(); // warnings are emitted on the next tick
    } finally {
      process.off("warning", onWarning);
    }
    assert.deepEqual(warnings, ["log lines dropped: EPIPE: broken pipe"]);
    assert.equal(written.length, 1);
    assert.match(written[0] ?? "", /"kept"/);
  });

  it("writes what it holds on flush, and at a custom write-through level", async () => {
    const out = sink();
    const destination = turnBuffer(out, { writeThroughLevel: 40 });
    const log = createLogger({ destination });
    log.info("held");
    assert.equal(out.writes.length, 0);
    await new Promise<void>((resolve, reject) => {
      destination.flush((err?: Error | null) => {
        if (err) reject(err);
        else resolve();
      });
    });
    assert.equal(out.writes.length, 1);
    assert.equal(out.flushes, 1, "the sink's own flush ran too");
    log.warn("at once");
    assert.equal(out.writes.length, 2);
  });
});
