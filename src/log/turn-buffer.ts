import { symbols } from "pino";
import type { DestinationStream } from "pino";

/** Where a {@link turnBuffer} writes its batches: pino's `destination()` (sonic-boom) or any stream. */
export interface LineSink {
  write(chunk: string): unknown;
  /** Writes what the sink itself still holds, before the process exits. */
  flushSync?(): void;
}

/** Options of {@link turnBuffer}. */
export interface TurnBufferOptions {
  /**
   * The most characters held before they are written at once, whatever the turn. Default 65536
   * (64 Ki characters, at most 192 KiB of UTF-8): a burst of lines costs no more memory than this.
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
  /** Writes the lines held now. */
  flushSync(): void;
  /** Writes the lines held now, then calls `done` (pino's `logger.flush(cb)`). */
  flush(done?: (err?: Error) => void): void;
}

// Buffers holding lines now; the exit hook writes them. Only buffers with lines are here, so a
// logger nobody uses any more is not kept alive by it.
const holding = new Set<TurnBufferImpl>();
let exitHooked = false;
// Set once the process is exiting: no turn ends any more, so lines are written as they come.
let exiting = false;

function writeAllHeld(): void {
  exiting = true;
  for (const buffer of holding) buffer.flushSync();
}

class TurnBufferImpl implements TurnBuffer {
  // pino sets `lastLevel` (and other metadata) on a destination with this symbol before each write.
  readonly [symbols.needsMetadataGsym] = true;
  lastLevel = 0;
  #held = "";
  #scheduled = false;
  readonly #sink: LineSink;
  readonly #maxChars: number;
  readonly #writeThroughLevel: number;
  readonly #atTurnEnd = (): void => {
    this.#scheduled = false;
    this.#writeHeld();
  };

  constructor(sink: LineSink, options: TurnBufferOptions) {
    this.#sink = sink;
    this.#maxChars = options.maxChars ?? 65536;
    this.#writeThroughLevel = options.writeThroughLevel ?? 50;
  }

  write(line: string): void {
    if (this.#held === "") holding.add(this);
    this.#held += line;
    if (
      this.lastLevel >= this.#writeThroughLevel ||
      this.#held.length >= this.#maxChars ||
      exiting
    ) {
      this.#writeHeld();
      return;
    }
    if (!this.#scheduled) {
      this.#scheduled = true;
      // setImmediate runs after the poll phase, when every request read in this turn has been
      // handled: one write per turn instead of one per line (a write is a system call, ~2 us here).
      setImmediate(this.#atTurnEnd);
    }
  }

  flushSync(): void {
    this.#writeHeld();
    this.#sink.flushSync?.();
  }

  flush(done?: (err?: Error) => void): void {
    try {
      this.#writeHeld();
    } catch (err) {
      done?.(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    done?.();
  }

  #writeHeld(): void {
    if (this.#held === "") return;
    const chunk = this.#held;
    this.#held = "";
    holding.delete(this);
    this.#sink.write(chunk);
  }
}

/**
 * Wraps a line sink so the lines logged in one event-loop turn reach it in one write, at the end
 * of the turn. Each line costs a string append instead of a system call; memory is bounded by
 * `maxChars`; error lines are written at once; whatever is held is written when the process
 * exits (`process.exit`, an uncaught exception, the end of the loop). Only a kill (SIGKILL, an
 * abort) loses lines, and only those of the turn it lands in.
 */
export function turnBuffer(sink: LineSink, options: TurnBufferOptions = {}): TurnBuffer {
  if (!exitHooked) {
    exitHooked = true;
    process.on("exit", writeAllHeld);
  }
  return new TurnBufferImpl(sink, options);
}
