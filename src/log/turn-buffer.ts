import { symbols } from "pino";
import type { DestinationStream } from "pino";

/** Where a {@link turnBuffer} writes its batches: pino's `destination()` (sonic-boom) or any stream. */
export interface LineSink {
  write(chunk: string): unknown;
  /** Writes what the sink itself still holds, before the process exits. */
  flushSync?(): void;
  /** Writes what the sink itself still holds, then calls `done`. */
  flush?(done: (err?: Error | null) => void): void;
}

/** Options of {@link turnBuffer}. */
export interface TurnBufferOptions {
  /**
   * The most characters one write carries: a line that would take the held lines past it writes
   * them first. Default 4096, the size up to which a write to a pipe is atomic (PIPE_BUF): lines
   * of several processes sharing one pipe never interleave, as with a write per line, and ~15
   * lines of a call log share each system call. A single longer line is written alone.
   */
  maxChars?: number;
  /**
   * Lines at this pino level or above are written at once, with whatever is held before them, so
   * an error line is on disk before whatever follows it (a crash, a kill). Default 50 (error).
   */
  writeThroughLevel?: number;
}

/** A pino destination that writes the lines of one event-loop turn together. */
export interface TurnBuffer extends DestinationStream {
  /** Writes the lines held now, and has the sink write what it holds. */
  flushSync(): void;
  /** Writes the lines held now, then the sink's `flush` (pino's `logger.flush(cb)`). */
  flush(done?: (err?: Error | null) => void): void;
}

// Buffers holding lines now; the exit hook writes them, oldest first. Only buffers with lines
// are here, so a logger nobody uses any more is not kept alive by it.
const holding = new Set<TurnBufferImpl>();
let exitHooked = false;
// Set once the process is exiting: no turn ends any more, so lines are written as they come.
let exiting = false;

function writeAllHeld(): void {
  exiting = true;
  for (const buffer of holding) {
    try {
      buffer.flushSync();
    } catch {
      // Nowhere left to report it: the other buffers' lines still get their chance.
    }
  }
}

class TurnBufferImpl implements TurnBuffer {
  // pino sets `lastLevel` (and other metadata) on a destination with this symbol before each write.
  readonly [symbols.needsMetadataGsym] = true;
  lastLevel = 0;
  #held = "";
  #scheduled = false;
  #warned = false;
  readonly #sink: LineSink;
  readonly #maxChars: number;
  readonly #writeThroughLevel: number;
  readonly #atTurnEnd = (): void => {
    this.#scheduled = false;
    try {
      this.#writeHeld();
    } catch (err) {
      // No caller to hand the error to at the end of a turn: a service must not die because its
      // log destination failed (a closed pipe, a full disk). The batch is dropped; said once.
      if (!this.#warned) {
        this.#warned = true;
        process.emitWarning(
          `log lines dropped: ${err instanceof Error ? err.message : String(err)}`,
        );
      }
    }
  };

  constructor(sink: LineSink, options: TurnBufferOptions) {
    this.#sink = sink;
    this.#maxChars = options.maxChars ?? 4096;
    this.#writeThroughLevel = options.writeThroughLevel ?? 50;
  }

  write(line: string): void {
    if (this.#held.length + line.length > this.#maxChars) this.#writeHeld();
    if (this.#held === "") holding.add(this);
    this.#held += line;
    if (this.lastLevel >= this.#writeThroughLevel || exiting) {
      this.#writeHeld();
      return;
    }
    if (!this.#scheduled) {
      this.#scheduled = true;
      // setImmediate runs after the poll phase, when every request read in this turn has been
      // handled: one write per turn (or per maxChars) instead of one per line; a write is a
      // system call, ~2 us on the bench machine.
      setImmediate(this.#atTurnEnd);
    }
  }

  flushSync(): void {
    this.#writeHeld();
    this.#sink.flushSync?.();
  }

  flush(done?: (err?: Error | null) => void): void {
    try {
      this.#writeHeld();
    } catch (err) {
      done?.(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    if (this.#sink.flush !== undefined) this.#sink.flush(done ?? ignore);
    else done?.();
  }

  #writeHeld(): void {
    if (this.#held === "") return;
    const chunk = this.#held;
    this.#held = "";
    holding.delete(this);
    this.#sink.write(chunk);
  }
}

function ignore(): void {
  // flush without a callback
}

/**
 * Wraps a line sink so the lines logged in one event-loop turn reach it together, at the end of
 * the turn, in writes of at most `maxChars` characters. Each line costs a string append instead
 * of a system call; error lines are written at once, with the lines held before them; whatever
 * is held is written when the process exits through its exit handlers (`process.exit`, an
 * uncaught exception, the end of the loop). A process that ends without them (SIGKILL, a signal
 * nobody handles, an abort such as running out of memory) loses the lines of its last turn.
 * A sink that throws at the end of a turn drops that batch with one process warning.
 */
export function turnBuffer(sink: LineSink, options: TurnBufferOptions = {}): TurnBuffer {
  if (!exitHooked) {
    exitHooked = true;
    process.on("exit", writeAllHeld);
  }
  return new TurnBufferImpl(sink, options);
}
