/**
 * The result types are checked against the wire's schemas where they are parsed (src/protocol:
 * `parseAnswer<Result, typeof schema>` compiles only if they agree). These cases show that the
 * check fails for each kind of drift, by construction: every `@ts-expect-error` below must error.
 */
import * as v from "valibot";
import { describe, expectTypeOf, it } from "vitest";
import type {
  BashOutput,
  BashOutputOutput,
  GlobOutput,
  GrepOutput,
} from "../../src/agent-tools/index.ts";
import type { BashResult, GlobResult, GrepResult } from "../../src/index.ts";
import {
  type Camelize,
  parseAnswer,
  type SameType,
  type Snakeify,
} from "../../src/protocol/parse.ts";

declare const body: unknown;
const answer = v.object({
  exit_code: v.number(),
  line_number: v.nullable(v.number()),
  cut: v.exactOptional(v.boolean()),
  before_context: v.array(v.object({ page_number: v.number() })),
});

interface Agrees {
  exitCode: number;
  lineNumber: number | null;
  cut?: boolean;
  beforeContext: { pageNumber: number }[];
}

// Each wrong result type is written out flat: an intersection is never identical to an object.
interface LacksCut {
  exitCode: number;
  lineNumber: number | null;
  beforeContext: { pageNumber: number }[];
}
interface HasExtra extends Agrees {
  extra: string;
}
interface StringCode {
  exitCode: string;
  lineNumber: number | null;
  cut?: boolean;
  beforeContext: { pageNumber: number }[];
}
interface NotNullable {
  exitCode: number;
  lineNumber: number;
  cut?: boolean;
  beforeContext: { pageNumber: number }[];
}
interface RequiredCut {
  exitCode: number;
  lineNumber: number | null;
  cut: boolean;
  beforeContext: { pageNumber: number }[];
}
interface SnakeInArray {
  exitCode: number;
  lineNumber: number | null;
  cut?: boolean;
  beforeContext: { page_number: number }[];
}
type Schema = typeof answer;

describe("parseAnswer's result check", () => {
  it("accepts a result type equal to the schema's camelCase output", () => {
    expectTypeOf(parseAnswer<Agrees, Schema>(answer, body, "x")).toEqualTypeOf<Agrees>();
    expectTypeOf<SameType<Agrees, Camelize<v.InferOutput<Schema>>>>().toEqualTypeOf<true>();
  });

  it("rejects a result that lacks a field of the schema", () => {
    // @ts-expect-error: `cut` is in the schema, not in the result type.
    parseAnswer<LacksCut, Schema>(answer, body, "x");
  });

  it("rejects a result with a field the schema lacks", () => {
    // @ts-expect-error: `extra` is not in the schema.
    parseAnswer<HasExtra, Schema>(answer, body, "x");
  });

  it("rejects a field of another type, nullability or optionality", () => {
    // @ts-expect-error: a string where the schema has a number.
    parseAnswer<StringCode, Schema>(answer, body, "x");
    // @ts-expect-error: not nullable, but the schema allows null.
    parseAnswer<NotNullable, Schema>(answer, body, "x");
    // @ts-expect-error: required, but the schema makes it optional.
    parseAnswer<RequiredCut, Schema>(answer, body, "x");
  });

  it("rejects a drift inside arrays, such as a snake_case key left unrenamed", () => {
    // @ts-expect-error: the nested key is `pageNumber` after renaming.
    parseAnswer<SnakeInArray, Schema>(answer, body, "x");
  });
});

describe("the agent tools' outputs", () => {
  it("are the SDK's results in snake_case, Grep's and Bash's `truncated` included", () => {
    expectTypeOf<BashOutput>().toEqualTypeOf<Snakeify<BashResult>>();
    expectTypeOf<BashOutput["truncated"]>().toEqualTypeOf<boolean>();
    expectTypeOf<GlobOutput>().toEqualTypeOf<Snakeify<GlobResult>>();
    expectTypeOf<GrepOutput>().toEqualTypeOf<Snakeify<GrepResult>>();
    expectTypeOf<Extract<GrepOutput, { mode: "content" }>>().toHaveProperty("total_matches");
    expectTypeOf<Extract<GrepOutput, { mode: "count" }>["truncated"]>().toEqualTypeOf<
      true | false | undefined
    >();
    expectTypeOf<BashOutputOutput["exit_code"]>().toEqualTypeOf<number | null>();
  });
});
