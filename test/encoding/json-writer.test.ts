// The JSON writer against protobuf-es: for random messages and init objects of every field kind,
// its text must be byte-identical to toJsonString, and it must fail exactly where that fails.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create, ScalarType, toJsonString } from "@bufbuild/protobuf";
import type { DescField, DescMessage, JsonObject } from "@bufbuild/protobuf";
import {
  AnySchema,
  DurationSchema,
  FieldMaskSchema,
  ListValueSchema,
  TimestampSchema,
  ValueSchema,
} from "@bufbuild/protobuf/wkt";
import { writeJson } from "../../src/encoding/json-writer.js";
import { HelloReplySchema } from "../../api/helloworld/v1/greeter_pb.js";
import { BookSchema, EchoRequestSchema } from "../fixtures/http/gen/bookstore/v1/bookstore_pb.js";
import {
  KindsSchema,
  LeafSchema,
  Leaf_InnerSchema,
} from "../fixtures/json/gen/kinds/v1/kinds_pb.js";
import { LegacySchema } from "../fixtures/json/gen/kinds/v1/legacy_pb.js";

/** A seeded PRNG (mulberry32): the same cases on every run. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const strings = [
  "",
  "a",
  "héllo",
  'quote " and \\',
  "line\nbreak\u2028",
  "tab\t\u0000\u001f\u007f",
  "\ud800",
  "😀",
  "<&>",
];
const doubles = [0, -0, 1.5, -2.25, NaN, Infinity, -Infinity, 1e21, 5e-324, 3.4028234663852886e38];
const int32s = [0, 1, -1, 2147483647, -2147483648, 123];
const uint32s = [0, 1, 4294967295];
const int64s = [0n, 1n, -1n, 9223372036854775807n, -9223372036854775808n];
const uint64s = [0n, 7n, 18446744073709551615n];

class Gen {
  constructor(readonly random: () => number) {}

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.random() * items.length)] as T;
  }

  chance(p: number): boolean {
    return this.random() < p;
  }

  scalar(type: ScalarType, longAsString: boolean): unknown {
    switch (type) {
      case ScalarType.STRING:
        return this.pick(strings);
      case ScalarType.BOOL:
        return this.chance(0.5);
      case ScalarType.DOUBLE:
      case ScalarType.FLOAT:
        return this.pick(doubles);
      case ScalarType.BYTES:
        return Uint8Array.from({ length: Math.floor(this.random() * 5) }, () =>
          Math.floor(this.random() * 256),
        );
      case ScalarType.INT64:
      case ScalarType.SINT64:
      case ScalarType.SFIXED64: {
        const v = this.pick(int64s);
        return longAsString ? v.toString() : v;
      }
      case ScalarType.UINT64:
      case ScalarType.FIXED64: {
        const v = this.pick(uint64s);
        return longAsString ? v.toString() : v;
      }
      case ScalarType.UINT32:
      case ScalarType.FIXED32:
        return this.pick(uint32s);
      default:
        return this.pick(int32s);
    }
  }

  mapKey(type: ScalarType): string {
    switch (type) {
      case ScalarType.STRING:
        return this.pick(["", "k", "two words", "ключ", "10", "2", 'q"\\', "\ud83d"]);
      case ScalarType.BOOL:
        return this.pick(["true", "false"]);
      default:
        return String(this.pick([0, 1, -5, 42, 1000]));
    }
  }

  json(depth: number): JsonObject {
    const out: JsonObject = {};
    const n = Math.floor(this.random() * 3);
    for (let i = 0; i < n; i++) {
      out[this.pick(["a", "b", "c"])] = this.pick<JsonObject[string]>([
        1,
        -2.5,
        "s",
        true,
        null,
        [1, "two", false],
        depth > 0 ? this.json(depth - 1) : {},
      ]);
    }
    return out;
  }

  /** An init object of `desc` (plain objects all the way down, as a handler returns them). */
  init(desc: DescMessage, depth: number): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const field of desc.fields) {
      if (!this.chance(0.6)) continue;
      if (field.oneof !== undefined) {
        if (out[field.oneof.localName] === undefined) {
          const value = this.single(field, depth);
          if (value !== undefined) out[field.oneof.localName] = { case: field.localName, value };
        }
        continue;
      }
      const value = this.fieldValue(field, depth);
      if (value !== undefined) out[field.localName] = value;
    }
    return out;
  }

  fieldValue(field: DescField, depth: number): unknown {
    switch (field.fieldKind) {
      case "list":
        return Array.from({ length: Math.floor(this.random() * 3) }, () =>
          field.listKind === "scalar"
            ? this.scalar(field.scalar, field.longAsString)
            : field.listKind === "enum"
              ? this.enumValue(field.enum.values.map((v) => v.number))
              : this.messageValue(field.message, depth, false),
        ).filter((v) => v !== undefined);
      case "map": {
        const map: Record<string, unknown> = {};
        for (let i = Math.floor(this.random() * 3); i > 0; i--) {
          const value =
            field.mapKind === "scalar"
              ? this.scalar(field.scalar, false)
              : field.mapKind === "enum"
                ? this.enumValue(field.enum.values.map((v) => v.number))
                : this.messageValue(field.message, depth, false);
          if (value !== undefined) map[this.mapKey(field.mapKey)] = value;
        }
        return map;
      }
      default:
        return this.single(field, depth);
    }
  }

  single(field: DescField, depth: number): unknown {
    switch (field.fieldKind) {
      case "scalar":
        return this.scalar(field.scalar, field.longAsString);
      case "enum":
        return this.enumValue(field.enum.values.map((v) => v.number));
      case "message":
        return this.messageValue(field.message, depth, field.oneof === undefined, field);
      default:
        return undefined;
    }
  }

  enumValue(numbers: number[]): number {
    // Sometimes a number the enum does not know: written as the number.
    return this.chance(0.1) ? 99 : this.pick(numbers);
  }

  messageValue(desc: DescMessage, depth: number, unwrapped: boolean, field?: DescField): unknown {
    switch (desc.typeName) {
      case "google.protobuf.Timestamp":
        return create(TimestampSchema, { seconds: this.pick([0n, 1700000000n]), nanos: 5000 });
      case "google.protobuf.Duration":
        return create(DurationSchema, { seconds: this.pick([0n, 3n, -3n]), nanos: 0 });
      case "google.protobuf.FieldMask":
        return create(FieldMaskSchema, { paths: ["a_b", "c"] });
      case "google.protobuf.Struct":
        return this.json(2);
      case "google.protobuf.Value":
        return create(ValueSchema, { kind: { case: "stringValue", value: this.pick(strings) } });
      case "google.protobuf.ListValue":
        return create(ListValueSchema, {
          values: [create(ValueSchema, { kind: { case: "boolValue", value: true } })],
        });
      case "google.protobuf.Any":
        return create(AnySchema);
    }
    if (desc.typeName.startsWith("google.protobuf.") && desc.typeName.endsWith("Value")) {
      const inner = desc.fields[0];
      if (inner?.fieldKind !== "scalar") return undefined;
      const value = this.scalar(inner.scalar, false);
      // A singular wrapper field outside a oneof holds the bare value.
      return unwrapped && field?.fieldKind === "message" ? value : { value };
    }
    if (depth <= 0) return undefined;
    return this.init(desc, depth - 1);
  }
}

type Outcome = { text: string } | { error: string };

function outcome(fn: () => string): Outcome {
  try {
    return { text: fn() };
  } catch (err) {
    return { error: err instanceof Error ? err.message : String(err) };
  }
}

const schemas: DescMessage[] = [
  KindsSchema,
  LeafSchema,
  Leaf_InnerSchema,
  LegacySchema,
  EchoRequestSchema,
  BookSchema,
  HelloReplySchema,
];

describe("writeJson", () => {
  for (const schema of schemas) {
    it(`writes ${schema.typeName} exactly as toJsonString, from messages and init objects`, () => {
      const gen = new Gen(prng(schema.typeName.length * 7919));
      let compared = 0;
      for (let i = 0; i < 300; i++) {
        const init = gen.init(schema, 3);
        const message = create(schema, init as never);
        for (const emitImplicit of [true, false]) {
          const want = outcome(() =>
            toJsonString(schema, message, { alwaysEmitImplicit: emitImplicit }),
          );
          const context = `${schema.typeName} #${i} emitImplicit=${emitImplicit}`;
          assert.deepEqual(
            outcome(() => writeJson(schema, message, { emitImplicit })),
            want,
            `message ${context}`,
          );
          assert.deepEqual(
            outcome(() => writeJson(schema, init, { emitImplicit })),
            want,
            `init ${context}`,
          );
          if ("text" in want) compared++;
        }
      }
      // Most cases encode (proto2's required field fails some on purpose).
      assert.ok(compared > 200, `only ${compared} cases encoded`);
    });
  }

  it("treats undefined and null as the empty message", () => {
    const want = toJsonString(KindsSchema, create(KindsSchema), { alwaysEmitImplicit: true });
    assert.equal(writeJson(KindsSchema, undefined, { emitImplicit: true }), want);
    assert.equal(writeJson(KindsSchema, null, { emitImplicit: true }), want);
    assert.equal(writeJson(HelloReplySchema, {}, { emitImplicit: false }), "{}");
  });

  it("fails like protobuf-es on values of the wrong type", () => {
    const bad: Record<string, unknown>[] = [
      { s: 5 },
      { i32: "7" },
      { i64: 1.5 },
      { b: "yes" },
      { by: "AAA=" },
      { color: "COLOR_RED" },
      { listS: "not a list" },
      { listS: [1] },
      { mapSs: { k: 1 } },
      { child: "x" },
      { choice: { case: "oneI64", value: true } },
      { wI32: "1" },
    ];
    for (const init of bad) {
      const want = outcome(() =>
        toJsonString(KindsSchema, create(KindsSchema, init as never), { alwaysEmitImplicit: true }),
      );
      const got = outcome(() => writeJson(KindsSchema, init, { emitImplicit: true }));
      assert.deepEqual(got, want, JSON.stringify(init));
    }
  });

  it("reports a message of another type as protobuf-es does", () => {
    const leaf = create(LeafSchema, { a: "x" });
    const want = outcome(() =>
      toJsonString(KindsSchema, create(KindsSchema, { child: leaf as never }), {
        alwaysEmitImplicit: true,
      }),
    );
    assert.deepEqual(
      outcome(() => writeJson(KindsSchema, { child: leaf }, { emitImplicit: true })),
      want,
    );
  });
});
