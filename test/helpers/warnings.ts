import type { Logger } from "../../src/log/logger.js";

/**
 * A logger that keeps its warn lines (as JSON) and lets a test wait for the next one, to see a
 * failed config reload.
 */
export function warnings(): { logger: Logger; seen: string[]; next: () => Promise<void> } {
  const seen: string[] = [];
  const waiting: (() => void)[] = [];
  const logger: Logger = {
    debug: () => undefined,
    info: () => undefined,
    error: () => undefined,
    warn: (fields: object | string) => {
      seen.push(JSON.stringify(fields));
      for (const wake of waiting.splice(0)) wake();
    },
    child: () => logger,
  };
  const next = () => new Promise<void>((resolve) => waiting.push(resolve));
  return { logger, seen, next };
}
