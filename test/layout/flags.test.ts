import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseFlags } from "../../cmd/server/flags.js";

describe("helloworld command line", () => {
  const good: [string[], { conf: string; version: boolean; help: boolean }][] = [
    [[], { conf: "./configs", version: false, help: false }],
    [["-conf", "/etc/hw"], { conf: "/etc/hw", version: false, help: false }],
    [["--conf", "a.yaml"], { conf: "a.yaml", version: false, help: false }],
    [["-conf=dir"], { conf: "dir", version: false, help: false }],
    [["--conf=dir", "-version"], { conf: "dir", version: true, help: false }],
    [["-v"], { conf: "./configs", version: true, help: false }],
    [["-h"], { conf: "./configs", version: false, help: true }],
  ];
  for (const [args, flags] of good) {
    it(`parses ${JSON.stringify(args)}`, () => {
      assert.deepEqual(parseFlags(args), flags);
    });
  }

  const bad: [string[], RegExp][] = [
    [["-config", "x"], /unknown flag "-config"/],
    [["-conf"], /-conf needs a path/],
    [["-conf="], /-conf needs a path/],
    [["configs"], /unexpected argument "configs"/],
  ];
  for (const [args, message] of bad) {
    it(`rejects ${JSON.stringify(args)} with one line and the usage`, () => {
      assert.throws(
        () => parseFlags(args),
        (err: Error) =>
          message.test(err.message) && /usage:/.test(err.message) && !err.message.includes("\n"),
      );
    });
  }
});
