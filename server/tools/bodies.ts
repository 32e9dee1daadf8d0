/**
 * The tool request bodies of CONTRACT §3 as valibot schemas, and the building blocks every body
 * schema is made of. They are strict (CONTRACT §8): a field an endpoint does not define is a 400.
 */
import * as v from "valibot";

/** A string field. */
export const text = v.string("must be a string");
/** A boolean field. */
export const flag = v.boolean("must be true or false");
/** The most context lines a grep may ask for on each side of a match. */
const maxContextLines = 1000;

/** A strict object schema: unknown keys are issues, reported by `validateBody` by name. */
export const body = <const T extends v.ObjectEntries>(entries: T) => v.strictObject(entries);

/** An integer field within bounds. */
export const int = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  v.pipe(
    v.number("must be a number"),
    v.integer("must be an integer"),
    v.minValue(min, `must be at least ${min}`),
    v.maxValue(max, `must be at most ${max}`),
  );

/** The tool bodies, by route name. */
export const toolBodies = {
  read: body({ file_path: text, offset: v.optional(int(1)), limit: v.optional(int(1)) }),
  write: body({ file_path: text, content: text }),
  edit: body({
    file_path: text,
    old_string: text,
    new_string: text,
    replace_all: v.optional(flag),
  }),
  glob: body({ pattern: text, path: v.optional(text) }),
  grep: body({
    pattern: text,
    path: v.optional(text),
    glob: v.optional(text),
    output_mode: v.optional(
      v.picklist(
        ["files_with_matches", "content", "count"],
        "must be 'files_with_matches', 'content' or 'count'",
      ),
    ),
    line_numbers: v.optional(flag),
    // Context multiplies an answer's size (it repeats per match): bounded, like `rg -C` in practice.
    after: v.optional(int(0, maxContextLines)),
    before: v.optional(int(0, maxContextLines)),
    context: v.optional(int(0, maxContextLines)),
    file_type: v.optional(text),
    case_insensitive: v.optional(flag),
    multiline: v.optional(flag),
  }),
  bash: body({
    command: text,
    timeout: v.optional(int(1, 600_000)),
    description: v.optional(text),
    run_in_background: v.optional(flag),
  }),
  bash_output: body({
    bash_id: text,
    filter: v.optional(text),
    cursor: v.optional(int(0)),
    wait_ms: v.optional(int(0, 30_000)),
  }),
  kill_bash: body({ shell_id: text }),
} as const;

/** The name of a tool route. */
export type ToolName = keyof typeof toolBodies;

/** A tool's validated body: the output of its request schema, the one definition of its fields. */
export type ToolBody<Name extends ToolName> = v.InferOutput<(typeof toolBodies)[Name]>;
