// The knobs of a fuzz run from the environment, shared by the test and `npm run fuzz`.

/** The default seed: fixed, so `npm test` runs the same cases every time. */
export const defaultSeed = 20;

/** Cases of the default run in `npm test` (about 20-40 s on a 2-core machine). */
export const defaultCount = 2000;

/** A seed from text: a non-negative integer, or "random" for a fresh one (printed). */
export function parseSeed(text: string | undefined): number {
  if (text === undefined || text === "") return defaultSeed;
  if (text === "random") return Math.floor(Math.random() * 2 ** 32);
  if (!/^\d+$/.test(text) || Number(text) >= 2 ** 32) {
    throw new Error(
      `fuzz seed must be an integer in [0, 2^32) or "random", got ${JSON.stringify(text)}`,
    );
  }
  return Number(text);
}

/** A non-negative integer from text (a count, a case index), or `fallback` when unset. */
export function parseCount(text: string | undefined, fallback: number): number {
  if (text === undefined || text === "") return fallback;
  if (!/^\d+$/.test(text))
    throw new Error(`fuzz count must be a non-negative integer, got ${JSON.stringify(text)}`);
  return Number(text);
}

/** Family names from a comma-separated list (KRATOS_FUZZ_FAMILIES), or undefined for all. */
export function parseFamilies(text: string | undefined): string[] | undefined {
  if (text === undefined || text.trim() === "") return undefined;
  return text
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
}
