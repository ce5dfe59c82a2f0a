import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { context, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { createLogger, discardLogger, isLogLevel } from "kratos-ts/log";
import { repoRoot, tempDir } from "../helpers/repo.js";

/** A pino destination that keeps the lines it is given, parsed. */
function capture(): { write(line: string): void; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  return {
    lines,
    write: (line) => {
      lines.push(JSON.parse(line) as Record<string, unknown>);
    },
  };
}

describe("createLogger", () => {
  const contextManager = new AsyncLocalStorageContextManager();
  before(() => {
    context.setGlobalContextManager(contextManager.enable());
  });
  after(() => {
    context.disable();
  });

  it("writes JSON lines with level, ISO time, msg and the service identity", () => {
    const out = capture();
    const log = createLogger({
      destination: out,
      service: { id: "host-1", name: "helloworld", version: "v1.2.3" },
    });
    log.info({ port: 8000 }, "listening");
    assert.equal(out.lines.length, 1);
    const line = out.lines.at(0) ?? {};
    assert.equal(line["level"], "info");
    assert.equal(line["msg"], "listening");
    assert.equal(line["port"], 8000);
    assert.equal(line["service.id"], "host-1");
    assert.equal(line["service.name"], "helloworld");
    assert.equal(line["service.version"], "v1.2.3");
    assert.equal(typeof line["time"], "string");
    assert.ok(
      !Number.isNaN(Date.parse(String(line["time"]))),
      `time is ISO 8601: ${String(line["time"])}`,
    );
    assert.equal(line["trace.id"], undefined, "no span, no trace.id");
  });

  it("keeps each line's fields to that line", () => {
    const out = capture();
    const log = createLogger({ destination: out });
    log.info({ driver: "sqlite" }, "first");
    log.info({ signal: "SIGTERM" }, "second");
    log.info("third");
    assert.deepEqual(
      out.lines.map((l) => [l["msg"], l["driver"], l["signal"]]),
      [
        ["first", "sqlite", undefined],
        ["second", undefined, "SIGTERM"],
        ["third", undefined, undefined],
      ],
    );
  });

  it("honours the level and carries child bindings", () => {
    const out = capture();
    const log = createLogger({ destination: out, level: "warn" }).child({ module: "data" });
    log.info("dropped");
    log.warn("kept");
    log.error({ err: "boom" }, "failed");
    assert.deepEqual(
      out.lines.map((l) => [l["level"], l["msg"], l["module"]]),
      [
        ["warn", "kept", "data"],
        ["error", "failed", "data"],
      ],
    );
  });

  it("adds trace.id and span.id while a span is active", () => {
    const out = capture();
    const log = createLogger({ destination: out });
    const span = trace.wrapSpanContext({
      traceId: "0af7651916cd43dd8448eb211c80319c",
      spanId: "b7ad6b7169203331",
      traceFlags: 1,
    });
    context.with(trace.setSpan(context.active(), span), () => {
      log.info("inside");
    });
    log.info("outside");
    assert.equal(out.lines.at(0)?.["trace.id"], "0af7651916cd43dd8448eb211c80319c");
    assert.equal(out.lines.at(0)?.["span.id"], "b7ad6b7169203331");
    assert.equal(out.lines.at(1)?.["trace.id"], undefined);
  });
});

describe("createLogger's default destination", () => {
  /** Runs `code` in a child with kratos-ts/log's `createLogger` as `createLogger`; its stdout, parsed. */
  function child(code: string): {
    signal: NodeJS.Signals | null;
    lines: { i?: number; msg?: string }[];
  } {
    const dir = tempDir("kratos-ts-log-turn-");
    try {
      const out = join(dir.path, "out.log");
      const fd = openSync(out, "w");
      const run = spawnSync(
        process.execPath,
        [
          "--input-type=module",
          "-e",
          'const { createLogger } = await import("kratos-ts/log"); const log = createLogger();' +
            code,
        ],
        { cwd: repoRoot, stdio: ["ignore", fd, "pipe"] },
      );
      closeSync(fd);
      const text = readFileSync(out, "utf8").trimEnd();
      return {
        signal: run.signal,
        lines: text === "" ? [] : text.split("\n").map((l) => JSON.parse(l) as { i?: number }),
      };
    } finally {
      dir.remove();
    }
  }
  const burst = 'for (let i = 0; i < 5000; i++) log.info({ i, pad: "x".repeat(200) }, "line");';

  it("writes a turn's lines by the turn's end: a process killed in the next turn lost none", () => {
    // Under load an asynchronous destination fell behind (88k of 200k lines written after 10 s
    // of gRPC load, the rest held in memory): lines are written synchronously, a turn's worth at
    // a time, so a burst costs no memory beyond one batch and a crash loses no earlier turn.
    const run = child(burst + 'setImmediate(() => process.kill(process.pid, "SIGKILL"));');
    assert.equal(run.signal, "SIGKILL");
    assert.equal(run.lines.length, 5000);
    assert.equal(run.lines.at(-1)?.i, 4999);
  });

  it("writes an error line at once, with every line before it, even if a kill follows", () => {
    const run = child(burst + 'log.error("fatal-ish"); process.kill(process.pid, "SIGKILL");');
    assert.equal(run.signal, "SIGKILL");
    assert.equal(run.lines.length, 5001);
    assert.equal(run.lines.at(-2)?.i, 4999);
    assert.equal(run.lines.at(-1)?.msg, "fatal-ish");
  });

  it("keeps the order of lines across loggers: an error line writes the others' held lines first", () => {
    const run = child(
      'const other = createLogger(); log.info("first"); other.info("second");' +
        'log.info("third"); other.error("fourth"); process.kill(process.pid, "SIGKILL");',
    );
    assert.deepEqual(
      run.lines.map((l) => l.msg),
      ["first", "second", "third", "fourth"],
    );
  });

  it("writes what it holds when the process exits, by process.exit or an uncaught exception", () => {
    assert.equal(child(burst + "process.exit(0);").lines.length, 5000);
    assert.equal(child(burst + 'throw new Error("boom");').lines.length, 5000);
    assert.equal(
      child('process.on("exit", () => log.info("in an exit hook"));' + burst).lines.at(-1)?.msg,
      "in an exit hook",
    );
  });
});

describe("log helpers", () => {
  it("isLogLevel accepts pino's level names only", () => {
    assert.ok(isLogLevel("debug"));
    assert.ok(isLogLevel("silent"));
    assert.ok(!isLogLevel("verbose"));
    assert.ok(!isLogLevel(3));
  });

  it("discardLogger writes nothing and its children are discarding too", () => {
    assert.equal(discardLogger.child({ a: 1 }), discardLogger);
    assert.equal(discardLogger.isLevelEnabled?.("error") ?? true, false);
  });
});
