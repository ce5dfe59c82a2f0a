// What the browser test's page reports, shared by the page (page/main.ts, DOM types) and the
// test (greeter.test.ts, Node types) without either seeing the other's globals.

/** What one path brought back; rendered by the page as JSON. */
export interface PathResult {
  path: string;
  hello: string;
  greeting: string;
  error: {
    /** `instanceof KratosError` (HTTP client) or `ConnectError` (connect-web). */
    type: string;
    /** ConnectError's code name (`not_found`), or "" for a KratosError. */
    connectCode: string;
    /** The reason of the google.rpc.ErrorInfo in the error details, or "" when none. */
    errorInfoReason: string;
    /** What kratos-ts/errors reads from the error, in the browser: its HTTP code and reason. */
    code: number;
    reason: string;
    /** The generated `isGreetingNotFound`. */
    isGreetingNotFound: boolean;
  };
}
