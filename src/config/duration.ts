// Go-style durations ("300ms", "1.5s", "1m30s", "2h"), the format Kratos configs use, and the
// proto JSON form of google.protobuf.Duration ("90s", "0.500s") they are converted to.

const units: Record<string, number> = {
  ns: 1,
  us: 1e3,
  µs: 1e3,
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

const part = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/y;

/** Nanoseconds of a Go-style duration string, or undefined when it is not one. */
export function parseDurationNanos(text: string): number | undefined {
  let s = text.trim();
  let sign = 1;
  if (s.startsWith("-") || s.startsWith("+")) {
    if (s.startsWith("-")) sign = -1;
    s = s.slice(1);
  }
  if (s === "0") return 0;
  if (s === "") return undefined;
  let total = 0;
  part.lastIndex = 0;
  while (part.lastIndex < s.length) {
    const start = part.lastIndex;
    const match = part.exec(s);
    if (match === null || match.index !== start) return undefined;
    total += Number(match[1]) * (units[match[2] ?? ""] ?? Number.NaN);
  }
  return Number.isFinite(total) ? sign * total : undefined;
}

/** The hint shown with a bad duration. */
export const durationHint = "use a number with a unit: 500ms, 1s, 1m30s, 2h";

/** The proto JSON form of a duration: seconds with up to 9 fractional digits and `s`. */
export function protoDuration(nanos: number): string {
  const sign = nanos < 0 ? "-" : "";
  const abs = Math.round(Math.abs(nanos));
  const seconds = Math.floor(abs / 1e9);
  const fraction = abs - seconds * 1e9;
  if (fraction === 0) return `${sign}${seconds}s`;
  return `${sign}${seconds}.${String(fraction).padStart(9, "0").replace(/0+$/, "")}s`;
}
