import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parsePathTemplate } from "kratos-ts/transport/http";
import { Router } from "../../../src/transport/http/router.js";

describe("parsePathTemplate", () => {
  const good: [string, unknown][] = [
    [
      "/v1/shelves",
      {
        verb: undefined,
        parts: [
          { kind: "literal", value: "v1" },
          { kind: "literal", value: "shelves" },
        ],
      },
    ],
    [
      "/v1/{name}",
      {
        verb: undefined,
        parts: [
          { kind: "literal", value: "v1" },
          { kind: "variable", fieldPath: ["name"], segments: [{ kind: "single" }] },
        ],
      },
    ],
    [
      "/v1/{book.id}",
      {
        verb: undefined,
        parts: [
          { kind: "literal", value: "v1" },
          { kind: "variable", fieldPath: ["book", "id"], segments: [{ kind: "single" }] },
        ],
      },
    ],
    [
      "/v1/{name=shelves/*/books/*}",
      {
        verb: undefined,
        parts: [
          { kind: "literal", value: "v1" },
          {
            kind: "variable",
            fieldPath: ["name"],
            segments: [
              { kind: "literal", value: "shelves" },
              { kind: "single" },
              { kind: "literal", value: "books" },
              { kind: "single" },
            ],
          },
        ],
      },
    ],
    [
      "/v1/{path=**}",
      {
        verb: undefined,
        parts: [
          { kind: "literal", value: "v1" },
          { kind: "variable", fieldPath: ["path"], segments: [{ kind: "rest" }] },
        ],
      },
    ],
    [
      "/v1/{id}:cancel",
      {
        verb: "cancel",
        parts: [
          { kind: "literal", value: "v1" },
          { kind: "variable", fieldPath: ["id"], segments: [{ kind: "single" }] },
        ],
      },
    ],
    [
      "/v1/books:search",
      {
        verb: "search",
        parts: [
          { kind: "literal", value: "v1" },
          { kind: "literal", value: "books" },
        ],
      },
    ],
    [
      "/v1/*/x",
      {
        verb: undefined,
        parts: [
          { kind: "literal", value: "v1" },
          { kind: "single" },
          { kind: "literal", value: "x" },
        ],
      },
    ],
    ["/", { verb: undefined, parts: [] }],
  ];
  for (const [template, expected] of good) {
    it(`parses ${template}`, () => {
      const { verb, parts } = parsePathTemplate(template);
      assert.deepEqual({ verb, parts }, expected);
    });
  }

  const bad: [string, RegExp][] = [
    ["v1/x", /must start with \//],
    ["/v1/{name", /unclosed \{/],
    ["/v1/{a.}", /bad field path "a\."/],
    ["/v1/{a}/{a}", /bound twice/],
    ["/v1/{a={b}}", /nested variables/],
    ["/v1/**/x", /\*\* must be the last segment/],
    ["/v1//x", /empty segment/],
    ["/v1/x/", /must not end with \//],
    ["/v1/x:", /bad verb/],
    ["/v1/a*b", /bad segment "a\*b"/],
  ];
  for (const [template, message] of bad) {
    it(`rejects ${template}`, () => {
      assert.throws(() => parsePathTemplate(template), message);
    });
  }
});

describe("Router", () => {
  const router = new Router<string>();
  const add = (method: string, template: string) => {
    router.add(method, parsePathTemplate(template), `${method} ${template}`);
  };
  add("GET", "/v1/{name=shelves/*/books/*}");
  add("GET", "/v1/files/{path=**}");
  add("GET", "/v1/books/{id}");
  add("POST", "/v1/books/{id}:cancel");
  add("GET", "/v1/books:search");
  add("DELETE", "/v1/books/{id}");

  const cases: [string, string, unknown][] = [
    [
      "GET",
      "/v1/shelves/1/books/2",
      { store: "GET /v1/{name=shelves/*/books/*}", vars: [["name", "shelves/1/books/2"]] },
    ],
    [
      "GET",
      "/v1/files/a/b/c.txt",
      { store: "GET /v1/files/{path=**}", vars: [["path", "a/b/c.txt"]] },
    ],
    ["GET", "/v1/books/a%2Fb", { store: "GET /v1/books/{id}", vars: [["id", "a/b"]] }],
    ["POST", "/v1/books/7:cancel", { store: "POST /v1/books/{id}:cancel", vars: [["id", "7"]] }],
    ["GET", "/v1/books/7:cancel", { store: "GET /v1/books/{id}", vars: [["id", "7:cancel"]] }],
    ["GET", "/v1/books:search", { store: "GET /v1/books:search", vars: [] }],
    ["PUT", "/v1/books/7", { kind: "method-not-allowed", allowed: ["GET", "DELETE"] }],
    ["GET", "/v2/x", { kind: "not-found" }],
  ];
  for (const [method, path, expected] of cases) {
    it(`${method} ${path}`, () => {
      const m = router.find(method, path);
      if (m.kind === "found") assert.deepEqual({ store: m.store, vars: m.vars }, expected);
      else assert.deepEqual(m, expected);
    });
  }

  it("refuses two routes of the same shape", () => {
    assert.throws(() => {
      add("GET", "/v1/books/{other}");
    }, /conflicts with GET \/v1\/books\/\{id\}/);
  });
});
