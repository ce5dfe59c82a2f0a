// The shape of a mutation family: given the case's own PRNG and the target's ports, build one
// mutated exchange, run it, and say what was sent and whether the answer was a server error.
import type { Prng } from "./prng.js";

/** What a case gets. */
export interface CaseInput {
  rng: Prng;
  httpPort: number;
  grpcPort: number;
  /** The longest a case waits for an answer, in ms (the server may rightly never answer). */
  capMs: number;
}

/** What a case did and saw. */
export interface CaseOutcome {
  /** The mutations applied, short. */
  label: string;
  /** What was sent, printable (bytes escaped), for the failure report and replay. */
  sent: string;
  /** What came back, short (statuses), for the report. */
  seen?: string;
  /** Why the answer is a server error to a client error; undefined when fine. */
  failure: string | undefined;
}

/** A family of mutations. */
export interface Family {
  readonly name: string;
  run(input: CaseInput): Promise<CaseOutcome>;
}
